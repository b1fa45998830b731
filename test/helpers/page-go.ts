// Runs in a page (bundled with it): start work in several pages, or in several places of one page, at the same moment.
// Each `whenGo()` resolves when the next `go()` is posted by any page of the origin (this one included), so a test
// arms both sides first and then releases them with one message: a real race, not two calls the test serialized.
const CHANNEL = "edgechat-test-go";

export function whenGo(): Promise<void> {
  const channel = new BroadcastChannel(CHANNEL);
  return new Promise((resolve) => {
    channel.onmessage = () => {
      channel.close();
      resolve();
    };
  });
}

export function go(): void {
  const channel = new BroadcastChannel(CHANNEL);
  channel.postMessage("go");
  // Closed later: a message already posted is delivered anyway, but nothing is gained by racing it.
  setTimeout(() => channel.close(), 1000);
}
