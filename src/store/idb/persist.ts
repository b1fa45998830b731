/**
 * Ask the browser to keep this origin's storage under pressure instead of evicting it (conversations
 * included). Resolves true when granted; false when refused or where `navigator.storage` is missing.
 */
export async function requestPersistentStorage(): Promise<boolean> {
  try {
    return (await globalThis.navigator?.storage?.persist?.()) === true;
  } catch {
    return false;
  }
}
