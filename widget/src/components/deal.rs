//! The deal page: stage and gate, the primary contact, the step-up.

use idv_types::DealStatus;
use leptos::prelude::*;

use super::{ActionBar, Facts, SetupBanner, StaleNote, StepUpPanel, StepUpResult, VerifyPanel};
use crate::{
    i18n::t,
    model::{Record, StepUp},
    Driver,
};

/// Stage and gate of a deal.
#[component]
fn Gate(deal: DealStatus) -> impl IntoView {
    let (gate, class) = match (deal.gated, deal.gate_satisfied) {
        (false, _) => (t().gate_open, "gate-open"),
        (true, true) => (t().gate_ok, "gate-ok"),
        (true, false) => (t().gate_blocked, "gate-blocked"),
    };
    let gated: Vec<String> = deal.gated_stages.iter().map(|s| s.name.clone()).collect();
    view! {
        <dl class="facts" data-testid="idv-gate">
            <dt>{t().fact_stage}</dt>
            <dd>{deal.stage.map_or_else(|| t().stage_unknown.to_string(), |s| s.name)}</dd>
            <dt>{t().fact_gate}</dt>
            <dd><span class=class>{gate}</span></dd>
            <dt>{t().fact_gated_stages}</dt>
            <dd>{if gated.is_empty() { t().none.to_string() } else { gated.join(", ") }}</dd>
        </dl>
    }
}

/// The deal page.
#[component]
pub fn DealBody(d: Driver) -> impl IntoView {
    let model = d.model;
    let deal = Memo::new(move |_| {
        model.with(|m| match m.record() {
            Some(Record::Deal(deal)) => Some(deal.clone()),
            _ => None,
        })
    });
    let primary =
        Memo::new(move |_| deal.with(|o| o.as_ref().and_then(|d| d.primary_contact.clone())));
    let last = Memo::new(move |_| {
        let idle = model.with(|m| m.stepup == StepUp::Idle);
        deal.with(|o| {
            o.as_ref()
                .and_then(|d| d.stepup.clone())
                .filter(|v| idle && v.state.is_terminal())
        })
    });
    view! {
        <SetupBanner d=d />
        <StaleNote d=d />
        {move || deal.get().map(|deal| view! { <Gate deal=*deal /> })}
        <section class="contact-box">
            <h2>{t().primary_contact}</h2>
            {move || match primary.get() {
                Some(c) => {
                    let mut facts = c.clone();
                    facts.history.clear();
                    view! { <Facts contact=facts /> }.into_any()
                }
                None => view! { <p class="muted">{t().no_primary_contact}</p> }.into_any(),
            }}
        </section>
        <StepUpPanel d=d />
        {move || last.get().map(|v| view! { <StepUpResult session=v previous=true /> })}
        <ActionBar d=d />
        <VerifyPanel d=d />
    }
}
