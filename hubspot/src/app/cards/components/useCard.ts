import { useCallback, useEffect, useState } from "react";

import { ApiError, widgetLink, type ObjectType } from "../api.ts";
import type { I18n } from "../i18n/index.ts";

export type Load<T> =
  | { kind: "loading" }
  | { kind: "error"; error: unknown }
  | { kind: "ready"; data: T };

/** The outcome of the last button: a success line, or the error (shown by `errorText`). */
export type Notice = { ok: true; text: string } | { ok: false; error: unknown };

export type Busy = "verify" | "stepup" | "resend" | "details" | null;

/** The modal the details page opens in. */
export const MODAL = { width: 640, height: 760 } as const;

/** What a failure says to the rep: the backend's own sentence, else the card's in their language. */
export function errorText(e: unknown, i18n: I18n): string {
  if (e instanceof ApiError) {
    if (e.fromBackend && e.message) {
      return i18n.bidi(e.message);
    }
    if (e.code === "unreadable") {
      return i18n.t("error.unreadable");
    }
    if (e.code !== "network" && e.status > 0) {
      return i18n.t("error.http", { status: String(e.status) });
    }
  }
  return i18n.t("error.network");
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
      (error: unknown) => current && setLoad({ kind: "error", error }),
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
        setNotice({ ok: false, error: e });
      } finally {
        setBusy(null);
      }
    },
    [refresh],
  );

  return { load, busy, notice, retry, refresh, run };
}

/**
 * Asks the backend for a single-use link to the details page, in the rep's language, and opens
 * it in HubSpot's modal.
 */
export async function openDetails(
  openIframeModal: (
    payload: { uri: string; width: number; height: number; title?: string },
    onClose?: () => void,
  ) => void,
  objectType: ObjectType,
  objectId: string | number,
  modal: { title: string; locale: string },
  onClose: () => void,
): Promise<void> {
  const { title, locale } = modal;
  const url = await widgetLink(objectType, objectId, locale);
  openIframeModal({ uri: url, width: MODAL.width, height: MODAL.height, title }, onClose);
}
