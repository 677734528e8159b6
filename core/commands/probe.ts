/**
 * `fanout probe [path]`: what fanout concludes about this machine — the disk
 * under `path`, its class and recommended I/O depths, the cores and memory
 * this process may use — and, with --calibrate, a short measured read sweep
 * that is cached for later runs (--forget drops that cache first).
 */
import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.ts";
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK } from "../exit_codes.ts";
import { TaskFailure } from "../sdk.ts";
import { writeStderr } from "../runtime/stderr.ts";
import { writeStdout } from "../runtime/stdout.ts";
import { parseDuration } from "../units.ts";
import { printProbe } from "./probe_output.ts";
import { type ProbeHostFlags, targetFromFlags } from "./probe_host.ts";
import { type CalibrateResult, calibrate, shortBudgetNote } from "../probe/calibrate.ts";
import { type CoreDetails, coreDetails } from "../probe/cores.ts";
import { type DeviceProbe, type Forgotten, forgetDeviceCalibration, probeDevice } from "../probe/device_probe.ts";
import { type MemoryAvailable, memoryAvailable } from "../probe/memory.ts";

export interface ProbeOptions {
  calibrate?: boolean;
  /** Remove the device's cached calibration (before calibrating, with both). */
  forget?: boolean;
  /** Calibration budget in ms (default 2500). */
  budgetMs?: number;
  signal?: AbortSignal;
}

export interface ProbeReport {
  path: string;
  device: DeviceProbe;
  cores: CoreDetails;
  memory: MemoryAvailable;
  /** Present when --calibrate ran in this invocation. */
  calibrated?: CalibrateResult;
  /** Present when --forget ran in this invocation. */
  forgotten?: Forgotten;
  /** The ssh host probed (`--host`); absent for this machine. */
  host?: string;
}

export interface ProbeFlags extends ProbeHostFlags {
  json?: boolean;
  calibrate?: boolean;
  forget?: boolean;
  budget?: unknown;
}

/**
 * `fanout probe` from its command-line flags: prints the report and
 * resolves with the exit code. Interrupted (Ctrl-C aborts `signal`), it
 * prints nothing and resolves with 130, the calibration's scratch file gone.
 */
export async function probeAction(target: string | undefined, flags: ProbeFlags, signal: AbortSignal): Promise<number> {
  let budgetMs: number | undefined;
  if (flags.budget !== undefined) {
    budgetMs = parseDuration(String(flags.budget));
    if (budgetMs === undefined) throw new UsageError(`--budget: expected a duration like 300ms or 2s, got ${JSON.stringify(flags.budget)}`);
  }
  if (flags.host !== undefined) return await probeHostAction(target, flags, signal);
  let report: ProbeReport;
  try {
    report = await probeCommand(target, { calibrate: Boolean(flags.calibrate), forget: Boolean(flags.forget), budgetMs, signal });
  } catch (error) {
    if (signal.aborted) return EXIT_INTERRUPTED;
    throw error;
  }
  printProbe(report, Boolean(flags.json), (s) => writeStdout(s));
  const short = report.calibrated && shortBudgetNote(report.calibrated.budgetMs);
  if (short) writeStderr(`warning: calibration ${short}\n`);
  return EXIT_OK;
}

/** `fanout probe --host`: one ssh session, then the same output as a local probe. */
async function probeHostAction(where: string | undefined, flags: ProbeFlags, signal: AbortSignal): Promise<number> {
  if (flags.calibrate || flags.forget || flags.budget !== undefined) throw new UsageError("--calibrate, --budget and --forget measure this machine's disks: not with --host");
  const target = targetFromFlags(flags);
  const { probeHost } = await import("../ssh/remote_probe.ts");
  let report: ProbeReport;
  try {
    report = { host: target.name, ...(await probeHost(target, where ?? ".", signal)) };
  } catch (error) {
    if (signal.aborted) return EXIT_INTERRUPTED;
    // The host could not be reached or the path is not there: a failed probe, in ssh's words.
    if (!(error instanceof TaskFailure)) throw error;
    writeStderr(`error: ${error.message}\n`);
    return EXIT_FAILED;
  }
  printProbe(report, Boolean(flags.json), (s) => writeStdout(s));
  return EXIT_OK;
}

/** The longest a calibration may take: the sweep must not become a benchmark run. */
export const MAX_BUDGET_MS = 60_000;

export async function probeCommand(target: string | undefined, options: ProbeOptions = {}): Promise<ProbeReport> {
  const where = path.resolve(target ?? ".");
  if (!fs.existsSync(where)) throw new UsageError(`probe: path does not exist: ${where}`);
  const budget = options.budgetMs;
  if (budget !== undefined && !(budget > 0 && budget <= MAX_BUDGET_MS)) {
    throw new UsageError(`--budget: expected a duration from 1ms to ${MAX_BUDGET_MS / 1000}s, got ${budget}ms`);
  }
  if (budget !== undefined && !options.calibrate) throw new UsageError("--budget only applies with --calibrate");
  // Forget, then calibrate, so the device report below already shows the outcome.
  const forgotten = options.forget ? forgetDeviceCalibration(where) : undefined;
  const calibrated = options.calibrate ? await calibrate(where, { budgetMs: budget, signal: options.signal }) : undefined;
  return {
    path: where,
    device: probeDevice(where),
    cores: coreDetails(),
    memory: memoryAvailable(),
    calibrated,
    forgotten,
  };
}
