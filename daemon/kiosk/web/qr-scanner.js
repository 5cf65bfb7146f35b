// QR scanning with the tablet's camera. The decoder (zxing-wasm) and its
// .wasm come from this gateway, never from a CDN: the kiosk works offline.
import { prepareZXingModule, readBarcodes } from '/vendor/zxing-wasm/es/reader/index.js';

prepareZXingModule({
  overrides: {
    locateFile: (path, prefix) => (path.endsWith('.wasm') ? '/vendor/zxing-wasm/reader/zxing_reader.wasm' : prefix + path),
  },
});

const SCAN_INTERVAL_MS = 150;

/**
 * Start the camera into `video` and call onText(text) with the first QR code
 * read. Returns stop(); onError(message) when there is no camera.
 */
export function startScanning(video, onText, onError) {
  let stream = null;
  let timer = null;
  let stopped = false;
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });

  const stop = () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
    if (stream !== null) for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  };

  const tick = async () => {
    if (stopped) return;
    if (video.readyState >= 2 && video.videoWidth > 0) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0);
      try {
        const image = context.getImageData(0, 0, canvas.width, canvas.height);
        const [found] = await readBarcodes(image, { formats: ['QRCode'], tryHarder: true, maxNumberOfSymbols: 1 });
        if (!stopped && found !== undefined && found.isValid && found.text !== '') {
          stop();
          onText(found.text);
          return;
        }
      } catch (error) {
        stop();
        onError(`The QR reader could not start (${error instanceof Error ? error.message : error}).`);
        return;
      }
    }
    timer = setTimeout(tick, SCAN_INTERVAL_MS);
  };

  if (navigator.mediaDevices?.getUserMedia === undefined) {
    onError('This tablet gives no camera to this page. Use the PIN pad, or a scanner at the desk.');
    return stop;
  }
  navigator.mediaDevices
    .getUserMedia({ video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false })
    .then((s) => {
      if (stopped) {
        for (const track of s.getTracks()) track.stop();
        return;
      }
      stream = s;
      video.srcObject = s;
      return video.play().then(tick);
    })
    .catch(() => onError('The camera is not available. Use the PIN pad instead.'));
  return stop;
}
