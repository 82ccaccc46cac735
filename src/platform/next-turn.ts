// Letting other requests in during long work on the request thread.

/**
 * Resolves on the next turn of the event loop (after the I/O waiting now has been handled). A chain of
 * awaited promises alone never yields to I/O: its steps run one after another as microtasks.
 */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
