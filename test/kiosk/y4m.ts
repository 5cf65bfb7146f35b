/**
 * A Y4M (YUV4MPEG2, C420) video of one QR code, for Chromium's fake camera
 * (--use-file-for-fake-video-capture). Made from the qrcode package's module
 * matrix: black modules on white, a quiet zone, grey chroma.
 */
import { writeFileSync } from 'node:fs';
import QRCode from 'qrcode';

export function writeQrY4m(path: string, text: string, options: { width?: number; height?: number; frames?: number } = {}): void {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const frames = options.frames ?? 10;
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const quiet = 4;
  const scale = Math.floor(Math.min(width, height) / (size + 2 * quiet));
  const side = scale * (size + 2 * quiet);
  const left = Math.floor((width - side) / 2);
  const top = Math.floor((height - side) / 2);

  const luma = Buffer.alloc(width * height, 235);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (qr.modules.get(y, x) === 0) continue;
      for (let dy = 0; dy < scale; dy++) {
        const row = (top + (quiet + y) * scale + dy) * width;
        luma.fill(16, row + left + (quiet + x) * scale, row + left + (quiet + x + 1) * scale);
      }
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420\n`);
  writeFileSync(path, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]));
}
