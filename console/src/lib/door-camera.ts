/**
 * The door's camera: frames of the back camera, the square in the middle decoded a few times a
 * second — by the browser's own BarcodeDetector where it has one (Chrome on Android and macOS),
 * else by jsQR in a worker (door-qr.worker.ts). What it reads goes to the same `scan` as a typed
 * ticket. This module is loaded with the door screen only, and the worker only when the camera
 * starts without a BarcodeDetector.
 */

/** A code held in front of the camera is read once, not at every frame while it stays there. */
export const REPEAT_MS = 3_000;
/** Frames decoded per second at most (each one a few ms of work, off the main thread or not). */
const FRAME_INTERVAL_MS = 125;
/** The side of the square decoded, in pixels: a ticket's code fills a good part of it. */
const FRAME_SIDE = 480;

/** Passes a text on unless it is the one passed on less than REPEAT_MS ago. */
export function repeatFilter(repeatMs = REPEAT_MS) {
  let last: { text: string; at: number } | undefined;
  return (text: string, now: number): boolean => {
    if (last && last.text === text && now - last.at < repeatMs) {
      last = { text, at: now };
      return false;
    }
    last = { text, at: now };
    return true;
  };
}

interface Detector {
  detect(frame: HTMLCanvasElement): Promise<string | undefined>;
  close(): void;
}

interface NativeBarcodeDetector {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}

interface NativeBarcodeDetectorClass {
  new (options: { formats: string[] }): NativeBarcodeDetector;
  getSupportedFormats(): Promise<string[]>;
}

async function nativeDetector(): Promise<Detector | undefined> {
  const Native = (window as unknown as { BarcodeDetector?: NativeBarcodeDetectorClass })
    .BarcodeDetector;
  if (
    !Native ||
    !(await Native.getSupportedFormats().catch((): string[] => [])).includes('qr_code')
  ) {
    return undefined;
  }
  const detector = new Native({ formats: ['qr_code'] });
  return {
    detect: async (frame) => (await detector.detect(frame))[0]?.rawValue,
    close: () => undefined,
  };
}

function workerDetector(): Detector {
  const worker = new Worker(new URL('./door-qr.worker.ts', import.meta.url), { type: 'module' });
  let id = 0;
  const waiting = new Map<number, (text: string | undefined) => void>();
  worker.onmessage = (event: MessageEvent<{ id: number; text: string | undefined }>) => {
    waiting.get(event.data.id)?.(event.data.text);
    waiting.delete(event.data.id);
  };
  return {
    detect(frame) {
      const context = frame.getContext('2d', { willReadFrequently: true });
      if (!context) return Promise.resolve(undefined);
      const image = context.getImageData(0, 0, frame.width, frame.height);
      const frameId = ++id;
      return new Promise((resolve) => {
        waiting.set(frameId, resolve);
        worker.postMessage(
          { id: frameId, width: image.width, height: image.height, data: image.data },
          [image.data.buffer],
        );
      });
    },
    close: () => worker.terminate(),
  };
}

export interface QrCamera {
  /** Which decoder reads the frames. */
  readonly decoder: 'native' | 'worker';
  stop(): void;
}

/**
 * Starts the back camera in `video` and calls `onText` with each code read (repeats filtered).
 * Rejects when there is no camera or it is refused (the caller says so).
 */
export async function startQrCamera(
  video: HTMLVideoElement,
  onText: (text: string) => void,
): Promise<QrCamera> {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 } },
    audio: false,
  });
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const native = await nativeDetector();
  const detector = native ?? workerDetector();
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
    detector.close();
  };
  try {
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await video.play();
  } catch (error) {
    stop();
    throw error;
  }
  const canvas = document.createElement('canvas');
  canvas.width = FRAME_SIDE;
  canvas.height = FRAME_SIDE;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const fresh = repeatFilter();
  const frame = async () => {
    if (stopped || !context) return;
    const side = Math.min(video.videoWidth, video.videoHeight);
    if (side > 0) {
      const x = (video.videoWidth - side) / 2;
      const y = (video.videoHeight - side) / 2;
      context.drawImage(video, x, y, side, side, 0, 0, FRAME_SIDE, FRAME_SIDE);
      const text = await detector.detect(canvas).catch(() => undefined);
      if (!stopped && text && fresh(text, Date.now())) onText(text);
    }
    if (!stopped) timer = setTimeout(() => void frame(), FRAME_INTERVAL_MS);
  };
  void frame();
  return { decoder: native ? 'native' : 'worker', stop };
}
