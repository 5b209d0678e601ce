/**
 * The skiff command line: it wires the parts together and holds no logic of its own.
 */

// Each command's module is loaded only when that command runs or prints its help: `skiff agent`
// must not load the API server, the controllers and the scheduler (less memory, faster start).
import { DEFAULT_DATA_DIR } from './defaults.ts';

const VERSION = '0.1.0';

interface Command {
  summary: string;
  /** Passes every argument through, --help included (wrappers of other tools). */
  passThrough?: boolean;
  help(): Promise<string>;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  server: {
    summary: 'Run the control plane (datastore, API server, scheduler, controllers) and a node',
    help: async () => (await import('./server.ts')).serverHelp,
    run: async (args) => (await import('./server.ts')).runServer(args),
  },
  agent: {
    summary: 'Join this machine to a cluster as a node (kubelet on containerd)',
    help: async () => (await import('./agent.ts')).agentHelp,
    run: async (args) => (await import('./agent.ts')).runAgent(args),
  },
  images: {
    summary: "Import image archives into this node's containerd (air-gapped use)",
    help: async () => (await import('./images.ts')).imagesHelp,
    run: async (args) => (await import('./images.ts')).runImages(args),
  },
  scheduler: {
    summary: 'Run the scheduler alone against a cluster',
    help: async () => (await import('./scheduler.ts')).schedulerHelp,
    run: async (args) => (await import('./scheduler.ts')).runSchedulerCommand(args),
  },
  sim: {
    summary: 'Simulate nodes (like KWOK): Nodes, Leases and pod lifecycles without containers',
    help: async () => (await import('./sim.ts')).simHelp,
    run: async (args) => (await import('./sim.ts')).runSim(args),
  },
  kubectl: {
    summary: 'Run kubectl 1.35 against this cluster (like k3s kubectl)',
    help: async () => (await import('./tools.ts')).kubectlHelp,
    passThrough: true,
    run: async (args) => (await import('./tools.ts')).kubectlCommand(args, DEFAULT_DATA_DIR),
  },
  uninstall: {
    summary: 'Remove everything skiff made on this machine: containers, mounts, network, cgroups, data',
    help: async () => (await import('./uninstall.ts')).uninstallHelp,
    run: async (args) => (await import('./uninstall.ts')).runUninstall(args),
  },
  version: {
    summary: 'Print the version',
    help: async () => 'Usage: skiff version',
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
  if (!command.passThrough && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${await command.help()}\n`);
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
