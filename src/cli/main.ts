/**
 * The skiff command line: it wires the parts together and holds no logic of its own.
 */
import { runServer, serverHelp } from './server.ts';

const VERSION = '0.1.0';

interface Command {
  summary: string;
  help: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  server: { summary: 'Run the control plane (datastore, API server)', help: serverHelp, run: runServer },
  version: {
    summary: 'Print the version',
    help: 'Usage: skiff version',
    async run() {
      process.stdout.write(`skiff v${VERSION} (node ${process.version})\n`);
      return 0;
    },
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'skiff: Kubernetes, written in TypeScript.',
    '',
    'Usage: skiff COMMAND [flags]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run 'skiff COMMAND --help' for a command's flags.",
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  if (name === '--version') return commands.version!.run([]);
  const command = commands[name];
  if (!command) {
    process.stderr.write(`skiff: unknown command ${JSON.stringify(name)}\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`skiff: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
