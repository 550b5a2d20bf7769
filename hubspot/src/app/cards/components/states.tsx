import { Alert, Button, Flex, LoadingSpinner, Text } from "@hubspot/ui-extensions";

import { useI18n } from "../i18n/index.ts";
import { errorText, type Notice } from "./useCard.ts";

export function Loading() {
  const { t } = useI18n();
  return <LoadingSpinner testId="idv-loading" label={t("card.loading")} showLabel layout="centered" />;
}

export function LoadError({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const i18n = useI18n();
  return (
    <Flex direction="column" gap="sm">
      <Alert testId="idv-load-error" title={i18n.t("card.loadFailed")} variant="error">
        {errorText(error, i18n)}
      </Alert>
      <Button testId="idv-retry" variant="secondary" onClick={onRetry}>
        {i18n.t("card.retry")}
      </Button>
    </Flex>
  );
}

/** The outcome of the last button, until the next one. */
export function NoticeAlert({ notice }: { notice: Notice | null }) {
  const i18n = useI18n();
  if (!notice) {
    return null;
  }
  return (
    <Alert
      testId={notice.ok ? "idv-done" : "idv-action-error"}
      title={notice.ok ? i18n.t("done.title") : i18n.t("error.title")}
      variant={notice.ok ? "success" : "error"}
    >
      <Text>{notice.ok ? notice.text : errorText(notice.error, i18n)}</Text>
    </Alert>
  );
}
