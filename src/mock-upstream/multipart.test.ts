import { describe, expect, it } from 'vitest';
import { type Form, readForm } from './form.js';
import { MultipartParser, multipartBoundary, type PartHeaders } from './multipart.js';

const BOUNDARY = '----formdata-mock-7MA4YWxkTrZu0gW';
// File bytes that tease the parser: CRLFs, "--", a boundary prefix, binary.
const FILE = Buffer.concat([
  Buffer.from(`line one\r\n--\r\n\r\n--${BOUNDARY.slice(0, 12)}\r\n-`),
  Buffer.from([0, 0xff, 0x0d, 0x0a, 0x2d, 0x2d, 0x0d]),
]);
const BODY = Buffer.concat([
  Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`),
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="data \\"1\\".jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  ),
  FILE,
  Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
]);

interface Part {
  headers: PartHeaders;
  data: Buffer;
}

function parse(pieces: Buffer[]): Part[] {
  const parser = new MultipartParser(BOUNDARY);
  const parts: Part[] = [];
  let data: Buffer[] = [];
  let headers: PartHeaders | undefined;
  for (const piece of pieces) {
    for (const event of parser.push(piece)) {
      if (event.type === 'part') headers = event.part;
      else if (event.type === 'data') data.push(Buffer.from(event.data));
      else if (headers) {
        parts.push({ headers, data: Buffer.concat(data) });
        data = [];
      }
    }
  }
  parser.end();
  return parts;
}

const EXPECTED: Part[] = [
  { headers: { name: 'purpose', filename: undefined, contentType: undefined }, data: Buffer.from('batch') },
  {
    headers: { name: 'file', filename: 'data "1".jsonl', contentType: 'application/octet-stream' },
    data: FILE,
  },
];

describe('MultipartParser', () => {
  it('parses a whole body', () => {
    expect(parse([BODY])).toEqual(EXPECTED);
  });

  it('parses a body split in two at every byte offset', () => {
    for (let at = 0; at <= BODY.length; at++) {
      expect(parse([BODY.subarray(0, at), BODY.subarray(at)]), `split at ${at}`).toEqual(EXPECTED);
    }
  });

  it('parses a body fed one byte at a time', () => {
    expect(parse(Array.from(BODY, (byte) => Buffer.from([byte])))).toEqual(EXPECTED);
  });

  it('skips a preamble and an epilogue', () => {
    const body = Buffer.concat([Buffer.from('ignore me\r\n'), BODY, Buffer.from('trailing words')]);
    expect(parse([body])).toEqual(EXPECTED);
  });

  it('rejects a body that ends before the closing boundary', () => {
    expect(() => parse([BODY.subarray(0, BODY.length - 8)])).toThrow(/unexpected end/);
  });

  it('rejects a boundary followed by garbage', () => {
    expect(() => parse([Buffer.from(`--${BOUNDARY}xx`)])).toThrow(/boundary not followed/);
  });

  it('rejects a part without a form-data name', () => {
    expect(() => parse([Buffer.from(`--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${BOUNDARY}--`)])).toThrow(
      /Content-Disposition/,
    );
  });
});

describe('multipartBoundary', () => {
  it('reads plain and quoted boundaries', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc123')).toBe('abc123');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b;c"')).toBe('a b;c');
  });

  it('rejects other content types', () => {
    expect(() => multipartBoundary('application/json')).toThrow(/expected multipart\/form-data/);
    expect(() => multipartBoundary(undefined)).toThrow(/none/);
  });
});

describe('readForm', () => {
  async function* chunks(size: number) {
    for (let at = 0; at < BODY.length; at += size) yield BODY.subarray(at, at + size);
  }

  it('collects fields and streams file parts to their sink', async () => {
    for (const size of [1, 7, 64, BODY.length]) {
      const written: Buffer[] = [];
      let closed = 0;
      const form: Form = await readForm(chunks(size), BOUNDARY, async () => ({
        write: async (data) => {
          written.push(Buffer.from(data));
        },
        close: async () => {
          closed++;
        },
      }));
      expect(form.fields).toEqual({ purpose: 'batch' });
      expect(form.files).toEqual([{ ...EXPECTED[1]?.headers, bytes: FILE.length }]);
      expect(Buffer.concat(written)).toEqual(FILE);
      expect(closed).toBe(1);
    }
  });
});
