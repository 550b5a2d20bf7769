import { Alert, Flex, Text } from "@hubspot/ui-extensions";

import type { SetupReport } from "../api.ts";
import { useI18n } from "../i18n/index.ts";

/**
 * What an admin must still create in the account, while anything is missing. The gaps' labels and
 * problems are the backend's words, put into this language's sentence.
 */
export function SetupAlert({ setup }: { setup?: SetupReport }) {
  const { t } = useI18n();
  if (!setup || setup.complete) {
    return null;
  }
  return (
    <Alert testId="idv-setup" title={t("setup.title")} variant="warning">
      <Flex direction="column" gap="xs">
        {setup.gaps.map((gap) => (
          <Text key={`${gap.what}:${gap.name}`}>{t("setup.gap", { label: gap.label, problem: gap.problem })}</Text>
        ))}
      </Flex>
    </Alert>
  );
}
