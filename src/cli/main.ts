// `seclab`: the command line. With no arguments in a terminal it opens the interactive menu; otherwise
// it runs one subcommand. Exit codes: 0 ok, 1 failed checks / --fail-under, 2 usage, 3 environment,
// 130 Ctrl-C (see docs/cli.md).
import { Command, CommanderError, Option } from 'commander';
import { CliError, ExitCode, isSetupError, jsonError, UsageError } from './errors.ts';
import { installInterruptHandlers, isInterrupting } from './interrupt.ts';
import { flushAndExit, Ui } from './ui.ts';
import { VERSION } from './context.ts';
import { registerAnomaly } from './anomaly.ts';
import { registerLedger } from './ledger.ts';

const WORKSPACE_HELP = 'workspace folder (default: $SECLAB_WORKSPACE, else the current folder when it is a workspace, else ./seclab-workspace)';
const TARGET_HELP = 'lab cloud: moto (local, default) | localstack (Docker) | endpoint=<url> | aws (real sandbox account: needs --account-id and confirmation)';

const EPILOG = `
Exit codes: 0 ok · 1 checks failed, lab not passed or --fail-under not reached · 2 usage error
            3 environment (no Python/moto/Docker, port in use, lab cloud died) · 130 interrupted (Ctrl-C)
Colors follow NO_COLOR / FORCE_COLOR; spinners only on a terminal and never with --json.
Documentation: docs/cli.md`;

type Action = (ui: Ui) => Promise<number>;

function addWorkspace(c: Command): Command {
  return c.option('-w, --workspace <dir>', WORKSPACE_HELP);
}
function addTarget(c: Command): Command {
  return c
    .addOption(new Option('-t, --target <target>', TARGET_HELP).default('moto'))
    .option('--account-id <id>', 'with --target aws: the 12-digit sandbox account (checked against sts:GetCallerIdentity)')
    .option('-y, --yes', 'do not ask for confirmation (--target aws, reset)');
}
function addJson(c: Command): Command {
  return c.option('--json', 'machine-readable output on stdout (no spinners, no colors)');
}
function addRun(c: Command): Command {
  return c
    .option('--timeout <seconds>', 'time limit for each function of your solution (default 60)')
    .option('--steps', 'show every attack step, also of attacks that were blocked');
}

export function buildProgram(run: (action: Action, json: boolean) => void): Command {
  const program = new Command('seclab');
  program
    .exitOverride()
    .version(VERSION, '-V, --version')
    .description('Hands-on AWS security labs: provision a lab environment, build the controls, face scripted attacks, get graded.\nRun without arguments in a terminal for the interactive menu.')
    .showHelpAfterError('(run `seclab --help` for usage)')
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false })
    .addHelpText('after', EPILOG);

  const optsOf = (cmd: Command) => cmd.optsWithGlobals() as Record<string, unknown> & { json?: boolean };

  addTarget(addWorkspace(program.command('menu')))
    .description('the interactive menu (what `seclab` alone opens in a terminal), for another workspace or target')
    .action((_o, cmd: Command) => run(async (ui) => {
      if (!process.stdin.isTTY || !process.stdout.isTTY) throw new UsageError('the menu needs a terminal', 'use the subcommands (seclab --help) in scripts and CI');
      return (await import('./menu.ts')).runMenu(ui, optsOf(cmd));
    }, false));

  addJson(addWorkspace(program.command('list')))
    .description('the labs with their slide, title and your progress')
    .action((_o, cmd: Command) => run(async (ui) => (await import('./student.ts')).cmdList(ui, optsOf(cmd)), !!optsOf(cmd).json));

  addJson(addWorkspace(program.command('start')))
    .argument('<lab>', 'lab id (e.g. iam) or slide number')
    .description('show the workbook page and the tasks; create <workspace>/<lab>/ from the starter if missing')
    .action((lab: string, _o, cmd: Command) => run(async (ui) => (await import('./student.ts')).cmdStart(ui, lab, optsOf(cmd)), !!optsOf(cmd).json));

  addRun(addJson(addTarget(addWorkspace(program.command('check')))))
    .argument('<lab>', 'lab id')
    .option('--keep', 'leave the graded account and the lab cloud up after grading, with the AWS CLI settings to reach it (Ctrl-C stops them)')
    .description('grade your workspace for a lab on a fresh lab cloud (your code, controls, attacks) and save your progress')
    .action((lab: string, _o, cmd: Command) => run(async (ui) => (await import('./student.ts')).cmdCheck(ui, lab, optsOf(cmd)), !!optsOf(cmd).json));

  addRun(addJson(addTarget(addWorkspace(program.command('attack')))))
    .argument('<lab>', 'lab id')
    .argument('[scenario]', 'an attack id, a comma list, or all (default)')
    .description('launch the attacks against your controls with a live view of each step: allowed or refused, detected, blocked')
    .action((lab: string, scenario: string | undefined, _o, cmd: Command) => run(async (ui) => (await import('./student.ts')).cmdAttack(ui, lab, scenario, optsOf(cmd)), !!optsOf(cmd).json));

  addJson(addTarget(addWorkspace(program.command('simulate'))))
    .argument('<lab>', 'lab id')
    .option('-m, --minutes <n>', 'minutes of lab time to play (default 30)')
    .option('--seed <seed>', 'the company\'s activity from this seed (the same seed plays the same day again)')
    .option('--timeout <seconds>', 'time limit for each function of your solution (default 60)')
    .description('run your code on the lab\'s company, play N minutes of its normal activity (no attacks) and show what your metric filters, alarms and rules saw: thresholds from data')
    .action((lab: string, _o, cmd: Command) => run(async (ui) => (await import('./simulate.ts')).cmdSimulate(ui, lab, optsOf(cmd)), !!optsOf(cmd).json));

  addJson(addWorkspace(program.command('hint')))
    .argument('<lab>', 'lab id')
    .argument('[task]', 'task id (default: the first task whose checks failed in your last check)')
    .description('the next hint you have not seen yet')
    .action((lab: string, task: string | undefined, _o, cmd: Command) => run(async (ui) => (await import('./student.ts')).cmdHint(ui, lab, task, optsOf(cmd)), !!optsOf(cmd).json));

  addRun(addJson(addTarget(addWorkspace(program.command('watch')))))
    .argument('<lab>', 'lab id')
    .description('re-check the lab every time a file in <workspace>/<lab>/ changes (q or Ctrl-C to stop)')
    .action((lab: string, _o, cmd: Command) => run(async (ui) => (await import('./student.ts')).cmdWatch(ui, lab, optsOf(cmd)), !!optsOf(cmd).json));

  addJson(addWorkspace(program.command('reset')))
    .argument('<lab>', 'lab id')
    .option('-y, --yes', 'do not ask for confirmation')
    .description('restore the starter of a lab; the old folder is kept as <lab>.bak-<timestamp>')
    .action((lab: string, _o, cmd: Command) => run(async (ui) => (await import('./student.ts')).cmdReset(ui, lab, optsOf(cmd)), !!optsOf(cmd).json));

  addJson(addWorkspace(program.command('solution')))
    .argument('<lab>', 'lab id')
    .description('the reference solution, once you have passed the lab')
    .action((lab: string, _o, cmd: Command) => run(async (ui) => (await import('./student.ts')).cmdSolution(ui, lab, optsOf(cmd)), !!optsOf(cmd).json));

  addJson(program.command('init'))
    .argument('[dir]', 'where (default: $SECLAB_WORKSPACE, else ./seclab-workspace)')
    .description('create a workspace from every lab\'s starter, with a README and a .gitignore; lab folders that hold work are left alone')
    .action((dir: string | undefined, _o, cmd: Command) => run(async (ui) => (await import('./student.ts')).cmdInit(ui, dir, optsOf(cmd)), !!optsOf(cmd).json));

  addJson(program.command('env'))
    .option('--shell <shell>', 'sh (default), fish or powershell')
    .option('--name <name>', 'the lab cloud of `seclab cloud up --name <name>` (when several run)')
    .option('-p, --port <port>', 'the lab cloud whose gateway listens on this port (when several run)')
    .option('--list', 'list the running lab clouds instead')
    .description('export lines for the AWS CLI, for the lab cloud of a running `seclab cloud up` (eval "$(seclab env)"); with several running, pick one with --name or --port')
    .action((_o, cmd: Command) => run(async (ui) => (await import('./cloud.ts')).cmdEnv(ui, optsOf(cmd)), !!optsOf(cmd).json));

  addJson(program.command('outbox'))
    .option('--protocol <protocol>', 'email, email-json or sms')
    .option('--name <name>', 'the lab cloud of `seclab cloud up --name <name>` (when several run)')
    .option('-p, --port <port>', 'the lab cloud whose gateway listens on this port (when several run)')
    .description('the email and SMS deliveries of the running lab cloud (SNS notifications to administrators)')
    .action((_o, cmd: Command) => run(async (ui) => (await import('./cloud.ts')).cmdOutbox(ui, optsOf(cmd)), !!optsOf(cmd).json));

  const host = program.command('host').description('the host model of EC2 instances: their root folders and user data (docs/host-userdata.md)');
  addJson(host.command('fs'))
    .argument('<instance-id>', 'an instance of the running lab cloud (i-...)')
    .option('--name <name>', 'the lab cloud of `seclab cloud up --name <name>` (when several run)')
    .option('-p, --port <port>', 'the lab cloud whose gateway listens on this port (when several run)')
    .option('--account <id>', 'the account owning the instance (default: the lab account)')
    .description('print the root folder of an instance (the Debian 12 image as its user data configured it), made on first ask')
    .action((id: string, _o, cmd: Command) => run(async (ui) => (await import('./host.ts')).cmdHostFs(ui, id, optsOf(cmd)), !!optsOf(cmd).json));
  addJson(host.command('apply'))
    .argument('<root-folder>', 'a root filesystem in a folder (a copy of the host image)').argument('<user-data-file>', 'user data: #cloud-config, a #! script or MIME multipart')
    .option('--instance-id <id>', 'instance id for /var/lib/cloud/instances/<id>').option('--no-exec', 'do not run shell parts (bootcmd, runcmd, scripts, packages)')
    .option('--no-fetch', 'install packages only from seclab\'s package cache (no download)')
    .description('apply user data to a folder as cloud-init would on first boot; shell runs inside the folder in bubblewrap, never on this machine')
    .action((root: string, file: string, _o, cmd: Command) => run(async (ui) => (await import('./host.ts')).cmdHostApply(ui, root, file, optsOf(cmd)), !!optsOf(cmd).json));
  addJson(host.command('web'))
    .argument('<instance-or-root>', 'an instance of the running lab cloud (i-...), or a root folder')
    .option('--name <name>', 'the lab cloud of `seclab cloud up --name <name>` (when several run)')
    .option('-p, --port <port>', 'the lab cloud whose gateway listens on this port (when several run)')
    .option('--account <id>', 'the account owning the instance (default: the lab account)')
    .option('--scan', 'probe port 443 once with the TLS prober, then stop').option('--sni <name>', 'with --scan: server name for SNI and the certificate check')
    .option('--ca <file>', 'with --scan: PEM bundle of trusted CAs (the company CA)')
    .description('run the instance\'s nginx configuration for real on loopback (as the lab\'s checks do) until Ctrl-C')
    .action((t: string, _o, cmd: Command) => run(async (ui) => (await import('./host.ts')).cmdHostWeb(ui, t, optsOf(cmd)), !!optsOf(cmd).json));

  const cloud = program.command('cloud').description('the lab cloud, for working by hand with the AWS CLI');
  addJson(addTarget(cloud.command('up')))
    .option('-p, --port <port>', 'gateway port on 127.0.0.1 (default: a free one)')
    .option('--name <name>', 'a name for `seclab env --name` (default: the --lab id, else "cloud"; -2, -3… when taken)')
    .option('--lab <lab>', 'also provision this lab\'s environment in the account')
    .option('--shell <shell>', 'export syntax: sh (default), fish or powershell')
    .description('run the lab cloud in the foreground: one account, its endpoint, export lines and control endpoints; Ctrl-C stops it')
    .action((_o, cmd: Command) => run(async (ui) => (await import('./cloud.ts')).cmdCloudUp(ui, optsOf(cmd)), !!optsOf(cmd).json));

  const siem = program.command('siem').description('the SIEM: scan log files offline with Sigma rules, or run your workspace\'s siem/siem.yml against the lab cloud');
  addJson(siem.command('scan'))
    .argument('<paths...>', 'CloudTrail files (Records JSON, JSON array or lines, gzipped trail files) and VPC flow-log files, or folders of them')
    .option('--rules <pack>', 'a folder of Sigma rules or a rule file (default: the bundled pack)')
    .option('-f, --format <format>', 'text (default) or json')
    .description('evaluate log files offline and print the alerts with the events that matched')
    .action((paths: string[], _o, cmd: Command) => run(async (ui) => (await import('./siem.ts')).cmdSiemScan(ui, paths, optsOf(cmd)), !!optsOf(cmd).json || optsOf(cmd)['format'] === 'json'));
  for (const [name, what] of [
    ['alerts', 'read what is new in the sources of siem/siem.yml (running lab cloud), notify, and list every alert'],
    ['sources', 'read what is new, then show what each source and channel of siem/siem.yml has done (exit 1 when one fails)'],
    ['rules', 'the rules siem/siem.yml loads, with their ATT&CK tags and authors (no lab cloud needed; exit 1 on rule errors)'],
  ] as const) {
    addJson(addWorkspace(siem.command(name)))
      .option('--config <file>', 'another SIEM configuration file (default: <workspace>/siem/siem.yml)')
      .description(what)
      .action((_o, cmd: Command) => run(async (ui) => {
        const m = await import('./siem.ts');
        const fn = name === 'alerts' ? m.cmdSiemAlerts : name === 'sources' ? m.cmdSiemSources : m.cmdSiemRules;
        return fn(ui, optsOf(cmd));
      }, !!optsOf(cmd).json));
  }

  addJson(program.command('tls').description('the TLS prober: protocols, cipher suites, certificate, HSTS and a grade (docs/tls.md)').command('scan'))
    .argument('<target>', 'host:port of a TLS server').option('--sni <name>', 'server name for SNI and the certificate check (default: the host)')
    .option('--ca <file>', 'PEM bundle of trusted CAs (default: the system store)').option('--http-port <port>', 'plain-HTTP port checked for a redirect to HTTPS (default 80; none: skip)')
    .option('--timeout <seconds>', 'per connection step (default 5)').option('-f, --format <format>', 'text (default) or json').description('real handshakes against a TLS server: versions, suites and order, forward secrecy, certificate, HSTS, redirect; graded like SSL Labs')
    .action((target: string, _o, cmd: Command) => run(async (ui) => (await import('./tls.ts')).cmdTlsScan(ui, target, optsOf(cmd)), !!optsOf(cmd).json || optsOf(cmd)['format'] === 'json'));

  addJson(program.command('cis').description('the CIS engine: CIS Debian Linux 12 Level 1/2 Server checks on a root filesystem in a folder (docs/cis.md)').command('scan'))
    .argument('<root>', 'folder holding a root filesystem').option('--profile <profile>', 'level1-server (default) or level2-server').option('--only <ids>', 'comma-separated recommendation numbers')
    .option('-v, --verbose', 'details and evidence for every result').option('-f, --format <format>', 'text (default) or json').description('check the folder\'s configuration files; exit 1 when a recommendation fails')
    .action((root: string, _o, cmd: Command) => run(async (ui) => (await import('./cis.ts')).cmdCisScan(ui, root, optsOf(cmd)), !!optsOf(cmd).json || optsOf(cmd)['format'] === 'json'));

  addJson(program.command('dlp').description('the DLP engine: Macie managed and custom data identifiers on local files (docs/dlp.md)').command('scan'))
    .argument('<paths...>', 'files (text, CSV, TSV, JSON, JSON Lines, Parquet, XLSX, DOCX, gzip, ZIP, TAR) or folders of them')
    .option('--managed <selection>', 'managed identifiers: all (default), recommended, include, exclude or none (as a Macie job)').option('--ids <ids>', 'comma-separated managed identifier ids for include/exclude')
    .option('--custom <file>', 'JSON file: custom data identifiers [{name, regex, keywords?, ignoreWords?, maximumMatchDistance?}]')
    .option('--allow-words <file>', 'allow list: one word or phrase a line').option('--allow-regex <regex>', 'allow list: text matching this is not reported')
    .option('-f, --format <format>', 'text (default) or json').description('find credit card numbers, SSNs, IBANs, credentials and other sensitive data; exit 1 when some is found')
    .action((paths: string[], _o, cmd: Command) => run(async (ui) => (await import('./dlp.ts')).cmdDlpScan(ui, paths, optsOf(cmd)), !!optsOf(cmd).json || optsOf(cmd)['format'] === 'json'));

  registerAnomaly(program, run);
  registerLedger(program, run);

  addJson(program.command('doctor'))
    .description('is this machine ready (Node, Python, moto, Docker, ports)? what to install otherwise')
    .action((_o, cmd: Command) => run(async (ui) => (await import('./cloud.ts')).cmdDoctor(ui), !!optsOf(cmd).json));

  const collect = (v: string, prev: string[] = []) => [...prev, v];
  const grade = addJson(addTarget(program.command('grade')))
    .description('instructors: grade one workspace or a folder of submissions; signed records, gradebook, feedback')
    .option('-w, --workspace <dir>', 'grade this one workspace (the student name is the folder name, or --student)')
    .option('-s, --submissions <dir>', 'grade every sub-folder as one student (name = folder name), each in its own account')
    .option('--lab <ids>', 'only these labs (comma list, repeatable)', collect)
    .option('-f, --format <formats>', 'text | json | junit | gradescope | csv | feedback (comma list, repeatable; default text, or all with --out)', collect)
    .option('-o, --out <dir>', 'write grades.json, junit.xml, results.json (results/<student>.json), gradebook.csv, feedback/<student>.md, report.txt')
    .option('--fail-under <percent>', 'exit 1 when any graded workspace scores below this percentage')
    .option('-j, --concurrency <n>', 'students graded at once (default 2)')
    .option('--seed <seed>', 'the run\'s seed (recorded in every grade as "seed"): the same seed grades the same work exactly the same way again (default: a new one)')
    .option('--timeout <seconds>', 'time limit for each function of a solution (default 60)')
    .option('--student <name>', 'with --workspace: the student name in the records')
    .option('--pack <dir>', 'an instructor pack: <dir>/<lab>.ts adds hidden checks and scenarios kept outside the course repository (repeatable; docs/instructor-pack.md)', collect)
    .option('--no-sandbox', 'run submissions\' code without the sandbox (only for work you trust: --submissions refuses to grade without a sandbox otherwise)')
    .option('--ledger [dir]', 'record every grade record in a tamper-evident ledger (default folder: ~/.config/seclab/grade-ledger; docs/ledger.md)')
    .option('--shard <i/n>', 'with --submissions, --seed and --out: grade only share i of n of the class (1-based; names sorted, round-robin), for `grade merge` (docs/ci-grading.md)')
    .addHelpText('after', '\nExamples:\n  seclab grade --workspace solutions --lab iam --format json\n  seclab grade --submissions ./class --out ./grades --fail-under 50\n  seclab grade verify ./grades/grades.json')
    .action((_o, cmd: Command) => run(async (ui) => (await import('./grade.ts')).cmdGrade(ui, optsOf(cmd)), !!optsOf(cmd).json));
  addJson(grade.command('verify'))
    .argument('<files...>', 'grade records (grades.json: one record or an array)')
    .option('--ledger [dir]', 'also prove each record is in the grade ledger, unchanged, against its signed checkpoint (default folder: ~/.config/seclab/grade-ledger)')
    .description('check the signatures of grade records (exit 1 when one was changed); with --ledger, their inclusion in the grade ledger')
    .action((files: string[], _o, cmd: Command) => run(async (ui) => (await import('./grade.ts')).cmdVerify(ui, files, (cmd.optsWithGlobals() as { ledger?: string | boolean }).ledger), !!optsOf(cmd).json));
  // Sharded grading (docs/ci-grading.md).
  addJson(grade.command('merge'))
    .argument('<dirs...>', 'the --out folders of `seclab grade --shard i/n`, all n of them')
    .option('-o, --out <dir>', 'where to write the merged outputs (a folder of its own)')
    .option('-f, --format <formats>', 'the outputs to write (default: the formats the shards were graded with)', collect)
    .option('--fail-under <percent>', 'exit 1 when any student scores below this percentage')
    .description('verify the shards of a class (signatures, same run, every share once) and write the outputs one run would have written')
    .action((dirs: string[], _o, cmd: Command) => run(async (ui) => (await import('./grade-merge.ts')).cmdGradeMerge(ui, dirs, optsOf(cmd)), !!optsOf(cmd).json));

  return program;
}

/**
 * Whether the command line asks for JSON on stdout: `--json`, or `--format json` (grade without
 * `--out`, siem scan). Used for errors that happen before a command runs (commander's usage errors).
 */
export function wantsJson(argv: string[]): boolean {
  if (argv.includes('--json')) return true;
  const formats: string[] = [];
  let out = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if ((a === '--format' || a === '-f') && argv[i + 1] !== undefined) formats.push(argv[++i]!);
    else if (a.startsWith('--format=')) formats.push(a.slice('--format='.length));
    else if (a === '--out' || a === '-o' || a.startsWith('--out=')) out = true;
  }
  return !out && formats.some((f) => f.split(',').map((x) => x.trim()).includes('json'));
}

/**
 * Turns an error into its message on stderr and an exit code; with `json`, also one JSON error object
 * on stdout (`{"error": {"message", "hint", "kind", "exitCode"}}`) so scripts always get JSON.
 */
export function reportError(ui: Ui, e: unknown, json = ui.json): number {
  const emit = (message: string, code: number, hint?: string, data?: Record<string, unknown>) => {
    if (json && !isInterrupting()) process.stdout.write(`${jsonError(message, code, hint, data)}\n`);
    return code;
  };
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.OK;
    // commander has printed the message on stderr
    return emit(e.message.replace(/^error: /, ''), ExitCode.USAGE, 'run `seclab --help` (or `seclab <command> --help`) for usage');
  }
  if (e instanceof CliError) {
    ui.error(e.message, e.hint);
    return emit(e.message, e.exitCode, e.hint, e.data);
  }
  if (isSetupError(e)) {
    ui.error(e.message, e.hint);
    return emit(e.message, ExitCode.ENVIRONMENT, e.hint);
  }
  if (isInterrupting()) return ExitCode.INTERRUPTED;
  const err = e as Error;
  const hint = 'This is a bug in seclab: please report it with the command you ran.';
  ui.error(`unexpected error: ${err?.message ?? String(e)}`, hint);
  if (process.env['SECLAB_DEBUG'] && err?.stack) process.stderr.write(`${err.stack}\n`);
  return emit(`unexpected error: ${err?.message ?? String(e)}`, ExitCode.FAILED, hint);
}

export async function main(argv: string[]): Promise<void> {
  installInterruptHandlers();
  let pending: Promise<number> | undefined;
  let ui = new Ui();
  const program = buildProgram((action, json) => {
    ui = new Ui({ json });
    pending = action(ui);
  });
  let code: number = ExitCode.OK;
  try {
    if (argv.length === 0) {
      if (process.stdin.isTTY && process.stdout.isTTY) {
        const { runMenu } = await import('./menu.ts');
        code = await runMenu(ui, {});
      } else {
        program.outputHelp();
      }
    } else {
      await program.parseAsync(argv, { from: 'user' });
      if (pending) code = await pending;
    }
  } catch (e) {
    code = reportError(ui, e, ui.json || wantsJson(argv));
  }
  await flushAndExit(code);
}
