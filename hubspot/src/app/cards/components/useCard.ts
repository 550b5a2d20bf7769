import { useCallback, useEffect, useState } from "react";

import { ApiError, widgetLink, type ObjectType } from "../api.ts";
import { t } from "../messages.ts";

export type Load<T> =
  | { kind: "loading" }
  | { kind: "error"; message: string }
  | { kind: "ready"; data: T };

/** The outcome of the last button: a success line or the backend's message. */
export interface Notice {
  ok: boolean;
  text: string;
}

export type Busy = "verify" | "stepup" | "resend" | "details" | null;

/** The modal the details page opens in. */
export const MODAL = { width: 640, height: 760 } as const;

export function errorText(e: unknown): string {
  if (e instanceof ApiError && e.message) {
    return e.message;
  }
  return t("error.network");
}

/**
 * A card's data and its buttons' plumbing: loads with `fetcher` (memoised on the record), reloads
 * after every action and when the details modal closes, and keeps one notice for the last action.
 */
export function useCard<T>(fetcher: () => Promise<T>) {
  const [load, setLoad] = useState<Load<T>>({ kind: "loading" });
  const [busy, setBusy] = useState<Busy>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let current = true;
    fetcher().then(
      (data) => current && setLoad({ kind: "ready", data }),
      (e: unknown) => current && setLoad({ kind: "error", message: errorText(e) }),
    );
    return () => {
      current = false;
    };
  }, [fetcher, attempt]);

  /** After a failed load: show the spinner and load again. */
  const retry = useCallback(() => {
    setLoad({ kind: "loading" });
    setAttempt((n) => n + 1);
  }, []);

  /** After an action: load again, keeping what is shown until the answer comes. */
  const refresh = useCallback(async () => {
    try {
      const data = await fetcher();
      setLoad({ kind: "ready", data });
    } catch {
      // The card keeps the last status; the next action or reload tries again.
    }
  }, [fetcher]);

  /** Runs one button's work; `work` answers the success line, or null for none. */
  const run = useCallback(
    async (which: Exclude<Busy, null>, work: () => Promise<string | null>) => {
      setBusy(which);
      setNotice(null);
      try {
        const text = await work();
        if (text) {
          setNotice({ ok: true, text });
        }
        await refresh();
      } catch (e) {
        setNotice({ ok: false, text: errorText(e) });
      } finally {
        setBusy(null);
      }
    },
    [refresh],
  );

  return { load, busy, notice, retry, refresh, run };
}

/** Asks the backend for a single-use link to the details page and opens it in HubSpot's modal. */
export async function openDetails(
  openIframeModal: (
    payload: { uri: string; width: number; height: number; title?: string },
    onClose?: () => void,
  ) => void,
  objectType: ObjectType,
  objectId: string | number,
  title: string,
  onClose: () => void,
): Promise<void> {
  const url = await widgetLink(objectType, objectId);
  openIframeModal({ uri: url, width: MODAL.width, height: MODAL.height, title }, onClose);
}
