// Mocked time for the tests of the enclosing describe (or file): Node's
// timers and Date move only with mock.timers.tick(), and performance.now()
// (the monotonic clock long timers aim at) follows the mocked Date.

import { afterEach, beforeEach, mock } from "node:test";

export function useMockedTime(): void {
  beforeEach(() => {
    mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"] });
    mock.method(performance, "now", () => Date.now());
  });
  afterEach(() => {
    mock.timers.reset();
    mock.restoreAll();
  });
}
