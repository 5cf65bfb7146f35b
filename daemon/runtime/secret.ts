import { inspect } from 'node:util';

/**
 * A credential value (card number, PIN, visitor code) in memory.
 *
 * It exists so that plaintext cannot leak by accident: logging, JSON
 * serialisation, string interpolation and util.inspect all print a redaction
 * marker. Code that really needs the digits (the keyed hash) calls reveal().
 */
export class SecretValue {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  toString(): string {
    return '[secret]';
  }

  toJSON(): string {
    return '[secret]';
  }

  [inspect.custom](): string {
    return '[secret]';
  }
}
