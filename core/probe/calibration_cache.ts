/**
 * Calibrations persist per device, as one JSON file each under
 * $XDG_CACHE_HOME/fanout (else ~/.cache/fanout), so `auto` can use a
 * measurement instead of a guess on later runs. The key is MAJ:MIN plus the
 * model and serial when sysfs has them: device numbers are reused when disks
 * are swapped, serials are not.
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { nodeOs } from "../runtime/lazy_builtins.ts";

export interface CalibrationPoint {
  depth: number;
  mibPerSec: number;
  reads: number;
  ms: number;
}

export interface Calibration {
  key: string;
  devno?: string;
  disk?: string;
  measuredAt: string;
  path: string;
  fileBytes: number;
  blockBytes: number;
  /** O_DIRECT reads; if false the page cache may have served some reads. */
  direct: boolean;
  budgetMs: number;
  points: CalibrationPoint[];
  /** The smallest depth within 10% of the best throughput. */
  knee: number;
  bestDepth: number;
  notes: string[];
}

export interface CacheOptions {
  /** Defaults to process.env; tests pass their own XDG_CACHE_HOME. */
  env?: Record<string, string | undefined>;
}

export function cacheDir(options: CacheOptions = {}): string {
  const env = options.env ?? process.env;
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
    ? env.XDG_CACHE_HOME
    : path.join(env.HOME ?? nodeOs().homedir(), ".cache");
  return path.join(base, "fanout");
}

/** "254:0" + model/serial → a file-name-safe key: "254_0-QEMU_HARDDISK-abc123". */
export function calibrationKey(devno: string, ids: { model?: string; serial?: string } = {}): string {
  return [devno, ids.model, ids.serial]
    .filter((s): s is string => Boolean(s))
    .map((s) => s.replace(/[^A-Za-z0-9.-]+/g, "_"))
    .join("-");
}

export function calibrationFile(key: string, options: CacheOptions = {}): string {
  return path.join(cacheDir(options), `calibration-${key}.json`);
}

/** The cached calibration for a key, or undefined if none (or it is unreadable). */
export function readCalibration(key: string, options: CacheOptions = {}): Calibration | undefined {
  try {
    const data = JSON.parse(fs.readFileSync(calibrationFile(key, options), "utf8")) as Calibration;
    return data.key === key && Number.isInteger(data.knee) ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a temporary name and renamed, so a concurrent reader never sees half a file. */
export function writeCalibration(cal: Calibration, options: CacheOptions = {}): string {
  const file = calibrationFile(cal.key, options);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(cal, null, 2) + "\n");
  fs.renameSync(tmp, file);
  return file;
}

/** Removes the cached calibration for a key; returns its file if there was one. */
export function forgetCalibration(key: string, options: CacheOptions = {}): string | undefined {
  const file = calibrationFile(key, options);
  if (!fs.existsSync(file)) return undefined;
  fs.rmSync(file, { force: true });
  return file;
}
