import { Alert, Flex, Text } from "@hubspot/ui-extensions";

import type { SetupReport } from "../api.ts";
import { t } from "../messages.ts";

/** What an admin must still create in the account, while anything is missing. */
export function SetupAlert({ setup }: { setup?: SetupReport }) {
  if (!setup || setup.complete) {
    return null;
  }
  return (
    <Alert testId="idv-setup" title={t("setup.title")} variant="warning">
      <Flex direction="column" gap="xs">
        {setup.gaps.map((gap) => (
          <Text key={`${gap.what}:${gap.name}`}>
            {t("setup.gap", { label: gap.label, problem: gap.problem })}
          </Text>
        ))}
      </Flex>
    </Alert>
  );
}
