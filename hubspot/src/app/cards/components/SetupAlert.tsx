import { Alert, Flex, Text } from "@hubspot/ui-extensions";

import type { SetupGap, SetupReport } from "../api.ts";
import { useI18n, type I18n } from "../i18n/index.ts";

/** The type a field needs, in the rep's language (a code it does not know, as it came). */
function typeWords(t: I18n["t"], code: string | undefined): string {
  switch (code) {
    case "dropdown":
      return t("setup.type.dropdown");
    case "date":
      return t("setup.type.date");
    case "number":
      return t("setup.type.number");
    case "text":
      return t("setup.type.text");
    default:
      return code ?? "";
  }
}

/**
 * One gap as the card words it: what to fix (the CRM's label; the app's own parts by their
 * words) and what is wrong, in the rep's language. The CRM's names (the label, the type it
 * reports, a dropdown's values, its refusal) stay as the CRM says them; a gap without a code
 * this card knows reads as the backend wrote it.
 */
export function gapWords({ t }: Pick<I18n, "t">, gap: SetupGap): { label: string; problem: string } {
  const issue = gap.issue;
  let problem: string;
  switch (issue?.code) {
    case "missing":
      problem = t("setup.issue.missing");
      break;
    case "wrong_type":
      problem = t("setup.issue.wrongType", { has: issue.has ?? "", needs: typeWords(t, issue.needs) });
      break;
    case "lacks_choices":
      problem = t("setup.issue.lacksChoices", { choices: (issue.choices ?? []).join(", ") });
      break;
    case "no_stage":
      problem = issue.similar
        ? t("setup.issue.noStageSimilar", { similar: issue.similar })
        : t("setup.issue.noStage");
      break;
    case "not_created":
      problem = t("setup.issue.notCreated", { why: issue.detail ?? "" });
      break;
    case "write_refused":
      problem = t("setup.issue.writeRefused", { why: issue.detail ?? "" });
      break;
    default:
      problem = gap.problem;
  }
  const label =
    gap.part === "preparation"
      ? t("setup.part.preparation")
      : gap.part === "crm_write"
        ? t("setup.part.crmWrite")
        : gap.label;
  return { label, problem };
}

/** What an admin must still create in the account, while anything is missing. */
export function SetupAlert({ setup }: { setup?: SetupReport }) {
  const i18n = useI18n();
  if (!setup || setup.complete) {
    return null;
  }
  return (
    <Alert testId="idv-setup" title={i18n.t("setup.title")} variant="warning">
      <Flex direction="column" gap="xs">
        {setup.gaps.map((gap) => (
          <Text key={`${gap.what}:${gap.name}`}>{i18n.t("setup.gap", gapWords(i18n, gap))}</Text>
        ))}
      </Flex>
    </Alert>
  );
}
