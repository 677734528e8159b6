/**
 * Everything fanout concludes about the storage under one path: the resolved
 * disks, their class, the recommended depth per access pattern, and the
 * cached calibration if this device was ever measured.
 */
import { type BlockOptions, type BlockResolution, resolveBlockDevice } from "./block_device.ts";
import { type Calibration, type CacheOptions, calibrationKey, forgetCalibration, readCalibration } from "./calibration_cache.ts";
import { classify, type Classification, type DepthAdvice, type IoPattern, recommendDepth } from "./classify.ts";

export interface DeviceProbeOptions extends BlockOptions, CacheOptions {}

export interface DeviceProbe extends Classification {
  resolution: BlockResolution;
  /** The key a calibration of this device is cached under, when there is a device. */
  calibrationKey?: string;
  calibration?: Calibration;
  recommended: Record<IoPattern, DepthAdvice>;
}

/** The cache key for a resolved path: the first whole disk, else the filesystem's own device number. */
export function keyFor(res: BlockResolution): string | undefined {
  const disk = res.disks[0];
  if (disk?.devno) return calibrationKey(disk.devno, disk);
  return res.devno ? calibrationKey(res.devno) : undefined;
}

export function probeDevice(target = ".", options: DeviceProbeOptions = {}): DeviceProbe {
  const resolution = resolveBlockDevice(target, options);
  const c = classify(resolution);
  const key = keyFor(resolution);
  const calibration = key ? readCalibration(key, options) : undefined;
  const queueDepths = resolution.disks.map((d) => d.deviceQueueDepth).filter((n): n is number => n !== undefined);
  const hints = {
    deviceQueueDepth: queueDepths.length > 0 ? Math.min(...queueDepths) : undefined,
    // A buffered sweep measures the page cache, not the device: shown, never used for depth.
    calibratedKnee: calibration?.direct ? calibration.knee : undefined,
  };
  return {
    ...c,
    resolution,
    calibrationKey: key,
    calibration,
    recommended: { random: recommendDepth(c.class, "random", hints), sequential: recommendDepth(c.class, "sequential", hints) },
  };
}

/** The cached calibration for the device under `target`, or undefined if it was never calibrated. */
export function cachedCalibration(target = ".", options: DeviceProbeOptions = {}): Calibration | undefined {
  const key = keyFor(resolveBlockDevice(target, options));
  return key ? readCalibration(key, options) : undefined;
}

/** What `fanout probe --forget` did: the key of the device under the path, and the file removed if one was cached. */
export interface Forgotten {
  calibrationKey?: string;
  removed?: string;
}

/** Drops the cached calibration of the device under `target`, so depths fall back to the class's defaults. */
export function forgetDeviceCalibration(target = ".", options: DeviceProbeOptions = {}): Forgotten {
  const key = keyFor(resolveBlockDevice(target, options));
  return { calibrationKey: key, removed: key ? forgetCalibration(key, options) : undefined };
}
