import { type IDBPDatabase, openDB } from "idb";
import { DatabaseBlockedError } from "./errors.js";
import { type Schema, upgrade, VERSION } from "./schema.js";

/**
 * The database connection, opened on first use and reopened after the browser or another tab closed it.
 * While an upgrade waits for other tabs to let go of the old version, `onBlocked` is called at once and the
 * wait ends after `timeout` ms with a DatabaseBlockedError (the open itself carries on: if it completes later,
 * that connection is closed, and the next call opens again).
 */
export function connection(name: string, onBlocked: (() => void) | undefined, timeout: number) {
  let opening: Promise<IDBPDatabase<Schema>> | undefined;

  const open = () =>
    new Promise<IDBPDatabase<Schema>>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let gaveUp = false;
      openDB<Schema>(name, VERSION, {
        upgrade: (db, from, _to, tx) => upgrade(db, from, tx),
        blocked() {
          onBlocked?.();
          if (timeout < Infinity)
            timer ??= setTimeout(() => {
              gaveUp = true;
              reject(new DatabaseBlockedError(name));
            }, timeout);
        },
        // Another tab opens a newer version: step aside. The next call reopens (and is told to reload).
        blocking(_version, _next, event) {
          (event.target as IDBDatabase).close();
          opening = undefined;
        },
        terminated: () => (opening = undefined),
      }).then(
        (db) => {
          clearTimeout(timer);
          if (gaveUp) db.close();
          else resolve(db);
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });

  return {
    get: () =>
      (opening ??= open().catch((error) => {
        opening = undefined;
        throw error;
      })),
    close() {
      opening?.then((db) => db.close(), () => {});
      opening = undefined;
    },
  };
}
