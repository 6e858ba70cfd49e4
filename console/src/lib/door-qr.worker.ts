import jsQR from 'jsqr';

/**
 * Decodes camera frames off the main thread where the browser has no BarcodeDetector (Safari,
 * Firefox, desktop Chromium on Linux and Windows). A same-origin module worker: the console's CSP
 * (`script-src 'self'`, which workers fall under) refuses the blob: workers that QR libraries
 * usually make, and WebAssembly.
 */
interface Frame {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<Frame>) => void) | null;
  postMessage(message: { id: number; text: string | undefined }): void;
};

scope.onmessage = (event) => {
  const { id, width, height, data } = event.data;
  // A ticket's code is dark on light: the inverted pass would double the work for nothing.
  const code = jsQR(data, width, height, { inversionAttempts: 'dontInvert' });
  scope.postMessage({ id, text: code?.data });
};
