/**
 * Runs async operations one after another. Opening and closing one device
 * must not overlap: the old file descriptor still holds the port lock until
 * its close completes, so an overlapping open would fail as "locked".
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation);
    // The next operation waits for this one whether it succeeds or fails.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
