import { Alert, Button, Flex, LoadingSpinner, Text } from "@hubspot/ui-extensions";

import { t } from "../messages.ts";
import type { Notice } from "./useCard.ts";

export function Loading() {
  return <LoadingSpinner testId="idv-loading" label={t("card.loading")} showLabel layout="centered" />;
}

export function LoadError({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <Flex direction="column" gap="sm">
      <Alert testId="idv-load-error" title={t("card.loadFailed")} variant="error">
        {message}
      </Alert>
      <Button testId="idv-retry" variant="secondary" onClick={onRetry}>
        {t("card.retry")}
      </Button>
    </Flex>
  );
}

/** The outcome of the last button, until the next one. */
export function NoticeAlert({ notice }: { notice: Notice | null }) {
  if (!notice) {
    return null;
  }
  return (
    <Alert
      testId={notice.ok ? "idv-done" : "idv-action-error"}
      title={notice.ok ? t("done.title") : t("error.title")}
      variant={notice.ok ? "success" : "error"}
    >
      <Text>{notice.text}</Text>
    </Alert>
  );
}
