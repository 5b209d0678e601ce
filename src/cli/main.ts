/**
 * The skiff command line: it wires the parts together and holds no logic of its own.
 */

import { agentHelp, runAgent } from './agent.ts';
import { imagesHelp, runImages } from './images.ts';
import { runSchedulerCommand, schedulerHelp } from './scheduler.ts';
import { DEFAULT_DATA_DIR, runServer, serverHelp } from './server.ts';
import { runSim, simHelp } from './sim.ts';
import { kubectlCommand, kubectlHelp } from './tools.ts';
import { runUninstall, uninstallHelp } from './uninstall.ts';

const VERSION = '0.1.0';

interface Command {
  summary: string;
  /** Passes every argument through, --help included (wrappers of other tools). */
  passThrough?: boolean;
  help: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  server: {
    summary: 'Run the control plane (datastore, API server, scheduler, controllers) and a node',
    help: serverHelp,
    run: runServer,
  },
  agent: {
    summary: 'Join this machine to a cluster as a node (kubelet on containerd)',
    help: agentHelp,
    run: runAgent,
  },
  images: {
    summary: "Import image archives into this node's containerd (air-gapped use)",
    help: imagesHelp,
    run: runImages,
  },
  scheduler: {
    summary: 'Run the scheduler alone against a cluster',
    help: schedulerHelp,
    run: runSchedulerCommand,
  },
  sim: {
    summary: 'Simulate nodes (like KWOK): Nodes, Leases and pod lifecycles without containers',
    help: simHelp,
    run: runSim,
  },
  kubectl: {
    summary: 'Run kubectl 1.35 against this cluster (like k3s kubectl)',
    help: kubectlHelp,
    passThrough: true,
    run: (args) => kubectlCommand(args, DEFAULT_DATA_DIR),
  },
  uninstall: {
    summary: 'Remove everything skiff made on this machine: containers, mounts, network, cgroups, data',
    help: uninstallHelp,
    run: runUninstall,
  },
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
  if (!command.passThrough && (rest.includes('--help') || rest.includes('-h'))) {
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
