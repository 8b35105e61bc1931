import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sniffImage } from '../../model-runtime/src/preprocess/sniff-image';
import { decodeFailure } from '../../model-runtime/src/preprocess/decode-errors';
import { checkImageSize, maxImagePixels } from '../../model-runtime/src/preprocess/image-limits';

const bytes = (...parts: (string | number[] | Uint8Array)[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const ftyp = (major: string, ...compatible: string[]) => {
  const body = bytes('ftyp', major, [0, 0, 0, 0], ...compatible);
  return bytes([0, 0, 0, body.length + 4], body, [0, 0, 0, 8], 'mdat');
};
const bmpHeader = (infoSize: number) => {
  const h = Buffer.alloc(64);
  h.write('BM', 0, 'latin1');
  h.writeUInt32LE(infoSize, 14);
  return h;
};

describe('what a file is, from its first bytes', () => {
  const images: [string, Buffer, string][] = [
    ['PNG', bytes([0x89], 'PNG\r\n\x1a\n', [0, 0, 0, 13]), 'png'],
    ['JPEG', bytes([0xff, 0xd8, 0xff, 0xe0]), 'jpeg'],
    ['GIF', bytes('GIF89a', [1, 0, 1, 0]), 'gif'],
    ['WebP', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 '), 'webp'],
    ['TIFF (Intel)', bytes('II*\0', [8, 0, 0, 0]), 'tiff'],
    ['TIFF (Motorola)', bytes('MM\0*', [0, 0, 0, 8]), 'tiff'],
    ['BMP with a 40-byte header', bmpHeader(40), 'bmp'],
    ['BMP with a core header', bmpHeader(12), 'bmp'],
    ['AVIF', ftyp('avif', 'mif1', 'miaf'), 'avif'],
    ['HEIC', ftyp('heic', 'mif1', 'heic'), 'heic'],
    ['SVG', bytes([0xef, 0xbb, 0xbf], '  <svg xmlns="http://www.w3.org/2000/svg"/>'), 'svg'],
    ['SVG with a prolog', bytes('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg width="1" height="1"></svg>'), 'svg'],
  ];
  for (const [name, head, format] of images) {
    test(`${name} is an image to decode`, () => {
      const sniffed = sniffImage(head);
      assert.equal(sniffed.kind, 'image');
      assert.equal((sniffed as { format: string }).format, format);
    });
  }

  const others: [string, Buffer, RegExp][] = [
    ['PDF', bytes('%PDF-1.7\n%\xe2\xe3'), /^a PDF document, not an image — export the page you need as PNG first$/],
    ['Word document', bytes('PK\x03\x04', [20, 0, 6, 0], '[Content_Types].xml'), /^an Office document/],
    ['ZIP archive', bytes('PK\x03\x04', [20, 0, 0, 0], 'photo.png'), /^a ZIP archive, not an image — extract the image from it first$/],
    ['OpenDocument', bytes('PK\x03\x04', [20, 0, 0, 0], 'mimetypeapplication/vnd.oasis.opendocument.text'), /^an OpenDocument file/],
    ['web page', bytes('<!DOCTYPE html><html><body><img src="x.png"></body></html>'), /^a web page \(HTML\), not an image — save the image itself/],
    ['web page with inline SVG', bytes('<!doctype html>\n<html><svg></svg></html>'), /^a web page \(HTML\)/],
    ['plain text', bytes('# README\nThis folder holds screenshots.\n'), /^a text file, not an image/],
    ['JSON', bytes('{"image": "x.png"}'), /^a JSON file/],
    ['XML that is not SVG', bytes('<?xml version="1.0"?><plist></plist>'), /^an XML file/],
    ['gzip', bytes([0x1f, 0x8b, 8, 0]), /^gzip-compressed data, not an image — decompress it first$/],
    ['ELF program', bytes('\x7fELF', [2, 1, 1, 0, 0, 0]), /^a program/],
    ['MP4 video', ftyp('isom', 'iso2', 'mp41'), /^a video \(MP4\/MOV\)/],
    ['Photoshop', bytes('8BPS', [0, 1]), /^a Photoshop document/],
    ['JPEG XL', bytes([0xff, 0x0a, 0xfa]), /^a JPEG XL image, a format this reader does not support — convert it to PNG or JPEG first$/],
    ['Windows icon', bytes([0, 0, 1, 0, 1, 0, 16, 16]), /^a Windows icon/],
    ['PPM', bytes('P6\n2 2\n255\n'), /^a Netpbm/],
    ['unknown bytes', bytes([0x00, 0x13, 0x37, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03]), /^not an image this reader recognises .* starts with the bytes 00 13 37 be ef 00 01 02$/],
    ['"BM" that is text', bytes('BMW service record, 2019\n'), /^a text file/],
  ];
  for (const [name, head, reason] of others) {
    test(`${name} is refused with what it is and what to do`, () => {
      const sniffed = sniffImage(head);
      assert.equal(sniffed.kind, 'other');
      assert.match((sniffed as { reason: string }).reason, reason);
    });
  }

  test('gzip data named .svgz is a compressed SVG', () => assert.equal((sniffImage(bytes([0x1f, 0x8b, 8, 0]), 'icon.svgz') as { format: string }).format, 'svg'));
});

describe('decoder failures read as one line with the reason', () => {
  test("libjpeg's repeated messages appear once", () => {
    const raw = 'Input file has corrupt header: VipsJpeg: premature end of JPEG image\nVipsJpeg: JPEG datastream contains no image\nVipsJpeg: premature end of JPEG image\nVipsJpeg: JPEG datastream contains no image';
    assert.equal(decodeFailure('x.jpg', 'JPEG', new Error(raw)).message, 'x.jpg: truncated or damaged JPEG data (premature end of JPEG image; JPEG datastream contains no image) — re-save or re-download it');
  });

  test('an empty "corrupt header:" says the file is damaged, without a dangling colon', () => {
    assert.equal(decodeFailure('x.png', 'PNG', new Error('Input file has corrupt header: ')).message, 'x.png: a damaged PNG file — re-save or re-download it');
  });

  test("libvips's seek bookkeeping is left out", () => {
    const raw = 'Input buffer has corrupt header: source: bad seek to 1024\nsource: bad seek to 512\nheif: Invalid input: No \'meta\' box';
    assert.equal(decodeFailure('x.avif', 'AVIF', new Error(raw)).message, "x.avif: truncated or damaged AVIF data (Invalid input: No 'meta' box) — re-save or re-download it");
  });

  test('an SVG entity bomb is named as such', () => {
    const raw = 'Input buffer has corrupt header: glib: XML parse error: Error domain 1 code 114 on line 1 column 4 of data: Maximum entity amplification factor exceeded, see xmlCtxtSetMaxAmplification.';
    assert.match(decodeFailure('x.svg', 'SVG', new Error(raw)).message, /^x\.svg: an SVG whose XML entities expand without bound \(a "billion laughs" file\); it was not rendered$/);
  });
});

describe('size limits', () => {
  const plain = { bytesPerPixel: 3, kind: 'an image' };

  test("Pillow's decompression-bomb limit by default, PIX2STRUCT_MAX_MEGAPIXELS to change it", () => {
    assert.equal(maxImagePixels({}), 178_956_970);
    assert.equal(maxImagePixels({ PIX2STRUCT_MAX_MEGAPIXELS: '300' }), 300_000_000);
    assert.equal(maxImagePixels({ PIX2STRUCT_MAX_MEGAPIXELS: 'lots' }), 178_956_970);
    assert.doesNotThrow(() => checkImageSize('x.png', 13000, 13000, plain, {}));
    assert.throws(
      () => checkImageSize('x.png', 16000, 16000, plain, {}),
      /^ImageError: x\.png: 16000×16000 pixels \(256 megapixels\) is over the 179 megapixels limit — downscale or crop it, or raise the limit with PIX2STRUCT_MAX_MEGAPIXELS=256 \(decoding needs about 733 MB\)$/,
    );
    assert.doesNotThrow(() => checkImageSize('x.png', 16000, 16000, plain, { PIX2STRUCT_MAX_MEGAPIXELS: '256' }));
  });

  test('formats that need more memory to decode get a lower limit, which the same variable raises', () => {
    const webp = { bytesPerPixel: 12, kind: 'a WebP image' };
    assert.doesNotThrow(() => checkImageSize('x.webp', 7000, 7000, webp, {}));
    assert.throws(() => checkImageSize('x.webp', 9000, 9000, webp, {}), /81 megapixels\) is over the 59\.7 megapixels limit for a WebP image \(decoding one takes about 12 bytes a pixel\) — .* PIX2STRUCT_MAX_MEGAPIXELS=243 /);
    assert.doesNotThrow(() => checkImageSize('x.webp', 9000, 9000, webp, { PIX2STRUCT_MAX_MEGAPIXELS: '243' }));
  });

  test('one very long side is refused even with few pixels', () => {
    assert.throws(() => checkImageSize('x.png', 1, 5_000_000, plain, {}), /1×5000000 pixels: a side longer than 1048576 pixels is not supported/);
    assert.throws(() => checkImageSize('x.png', 0, 10, plain, {}), /size of 0×10 pixels/);
  });
});
