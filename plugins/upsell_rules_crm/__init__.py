"""CRM task sinks: ``hubspot`` (CRM tasks API v3) and ``salesforce`` (the Task sObject
over REST).

Registered through the ``upsell_rules`` entry point as ``crm``. They act on the
transitions ``run --state`` delivers:

- ``entered_act_now`` (and ``play_changed`` / ``unblocked`` while in act-now): create a
  task for the account: the play's title and the account as the subject, the narrative
  as the body, due on the date the play's window implies, assigned to the owner's CRM
  user (the ``owners`` mapping: owner name -> CRM user id);
- ``left_act_now``: complete the task that was opened for it (HubSpot status
  ``COMPLETED``, Salesforce ``Completed``), found from what this sink reported when it
  opened it;
- anything else, or a blocked account: no task (reported as delivered, with why).

The API token is read at delivery time from the environment variable the ruleset names
in ``token_env`` (an ``UPSELL_RULES_...`` name, or one ``run --allow-env`` names: the
core checks it as for ``${VAR}``); it is never written anywhere. Retries: see
:mod:`upsell_rules_crm.http`. A 401 stops the sink for the rest of the run (every
remaining decision is reported as not attempted), since every other call would fail the
same way::

    sinks:
      hubspot_tasks:
        type: hubspot
        token_env: UPSELL_RULES_HUBSPOT_TOKEN
        owners: {Priya Raman: "64492917"}
        bands: [act_now]
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from upsell_rules.plugin.hookspecs import hookimpl
from upsell_rules.plugin.types import (
    DeliveryReport,
    DeliveryResult,
    ParamSpec,
    Sink,
    SinkContext,
)
from upsell_rules.safetext import redact_url
from upsell_rules_crm import http
from upsell_rules_crm.tasks import body, due_date, owner_id, subject, task_id

__all__ = ["HUBSPOT_SINK", "SALESFORCE_SINK", "upsell_rules_sinks"]

#: Transitions that open a task.
OPENS = frozenset({"entered_act_now", "play_changed", "unblocked"})


@dataclass(frozen=True)
class Crm:
    """How one CRM creates and completes a task."""

    name: str
    create: Callable[[Mapping[str, Any], Mapping[str, Any], date, Mapping[str, str]],
                     http.Answer]
    complete: Callable[[str, Mapping[str, Any], Mapping[str, str]], http.Answer]


def _retry_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {"retries": int(options.get("retries", 4)),
            "backoff": float(options.get("backoff", 0.5)),
            "max_wait": float(options.get("max_wait", 60)),
            "timeout": float(options.get("timeout", 20))}


def _hubspot_base(options: Mapping[str, Any]) -> str:
    return str(options.get("base_url") or "https://api.hubapi.com").rstrip("/")


def _hubspot_create(decision: Mapping[str, Any], options: Mapping[str, Any], as_of: date,
                    headers: Mapping[str, str]) -> http.Answer:
    due = due_date(str(decision["action"]["window"]), as_of, int(options.get("due_days", 3)))
    properties = {
        "hs_timestamp": f"{due.isoformat()}T00:00:00.000Z",
        "hs_task_subject": subject(decision),
        "hs_task_body": body(decision),
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": str(options.get("priority") or "HIGH"),
        "hs_task_type": "TODO",
    }
    owner = owner_id(decision, options.get("owners"))
    if owner:
        properties["hubspot_owner_id"] = owner
    return http.call("POST", f"{_hubspot_base(options)}/crm/v3/objects/tasks",
                     {"properties": properties}, headers, **_retry_options(options))


def _hubspot_complete(task: str, options: Mapping[str, Any],
                      headers: Mapping[str, str]) -> http.Answer:
    url = f"{_hubspot_base(options)}/crm/v3/objects/tasks/{urllib.parse.quote(task)}"
    return http.call("PATCH", url, {"properties": {"hs_task_status": "COMPLETED"}}, headers,
                     **_retry_options(options))


def _sf_base(options: Mapping[str, Any]) -> str:
    version = str(options.get("api_version") or "v60.0")
    return f"{str(options['instance_url']).rstrip('/')}/services/data/{version}/sobjects/Task"


def _sf_create(decision: Mapping[str, Any], options: Mapping[str, Any], as_of: date,
               headers: Mapping[str, str]) -> http.Answer:
    due = due_date(str(decision["action"]["window"]), as_of, int(options.get("due_days", 3)))
    record: dict[str, Any] = {
        "Subject": subject(decision)[:255],
        "Description": body(decision),
        "ActivityDate": due.isoformat(),
        "Status": "Not Started",
        "Priority": str(options.get("priority") or "High"),
    }
    owner = owner_id(decision, options.get("owners"))
    if owner:
        record["OwnerId"] = owner
    field = options.get("external_id_field")
    key = str(decision.get("transition", {}).get("key") or "")
    if field and key:
        # Upsert by external id: a repeat of the same transition updates, never duplicates.
        url = f"{_sf_base(options)}/{urllib.parse.quote(str(field))}/{urllib.parse.quote(key)}"
        return http.call("PATCH", url, record, headers, **_retry_options(options))
    return http.call("POST", f"{_sf_base(options)}/", record, headers, **_retry_options(options))


def _sf_complete(task: str, options: Mapping[str, Any],
                 headers: Mapping[str, str]) -> http.Answer:
    return http.call("PATCH", f"{_sf_base(options)}/{urllib.parse.quote(task)}",
                     {"Status": "Completed"}, headers, **_retry_options(options))


HUBSPOT = Crm("hubspot", _hubspot_create, _hubspot_complete)
SALESFORCE = Crm("salesforce", _sf_create, _sf_complete)


def _one(crm: Crm, decision: Mapping[str, Any], context: SinkContext,
         headers: Mapping[str, str]) -> DeliveryResult:
    account = str(decision.get("account_id", ""))
    transition = decision.get("transition") or {}
    kind = transition.get("kind")
    if kind == "left_act_now":
        task = task_id(transition.get("opened"))
        if task is None:
            return DeliveryResult(account, "delivered", "no task of ours to close", 0)
        answer = crm.complete(task, context.options, headers)
        if answer.ok:
            return DeliveryResult(account, "delivered", f"task {task} completed",
                                  answer.attempts)
        return DeliveryResult(account, "failed", f"closing task {task}: {answer.detail}",
                              answer.attempts)
    if kind is not None and kind not in OPENS:
        return DeliveryResult(account, "delivered", f"no task for {kind}", 0)
    if decision.get("blocked"):
        return DeliveryResult(account, "delivered", "no task: blocked", 0)
    answer = crm.create(decision, context.options, context.as_of, headers)
    created = answer.body.get("id") if isinstance(answer.body, dict) else None
    if answer.ok and created:
        return DeliveryResult(account, "delivered", f"task {created} created", answer.attempts)
    detail = answer.detail if not answer.ok else "the answer had no task id"
    return DeliveryResult(account, "failed", detail, answer.attempts)


def _deliver(crm: Crm, decisions: Sequence[Mapping[str, Any]],
             context: SinkContext) -> DeliveryReport:
    options = context.options
    where = (_hubspot_base(options) if crm is HUBSPOT
             else str(options.get("instance_url") or ""))
    report = DeliveryReport(crm.name, redact_url(where) if where else where)
    variable = str(options.get("token_env") or "")
    token = os.environ.get(variable) if variable else None
    if not token:
        reason = (f"environment variable {variable} (token_env) is not set" if variable
                  else "no token_env option: name the environment variable holding the token")
        report.errors.append(reason)
        report.results = [DeliveryResult(str(d.get("account_id", "")), "failed", reason)
                          for d in decisions]
        return report
    headers = {"Authorization": f"Bearer {token}"}
    refused = ""
    for decision in decisions:
        if refused:
            report.results.append(DeliveryResult(str(decision.get("account_id", "")), "failed",
                                                 f"not attempted: {refused}"))
            continue
        try:
            report.results.append(_one(crm, decision, context, headers))
        except http.Unauthorized as exc:
            refused = (f"{crm.name} refused the token in ${variable} ({exc}); check or renew "
                       "it")
            report.errors.append(refused)
            report.results.append(DeliveryResult(str(decision.get("account_id", "")), "failed",
                                                 refused, 1))
    return report


def deliver_hubspot(decisions: Sequence[Mapping[str, Any]],
                    context: SinkContext) -> DeliveryReport:
    """Create or complete HubSpot tasks for the delivered transitions."""
    return _deliver(HUBSPOT, decisions, context)


def deliver_salesforce(decisions: Sequence[Mapping[str, Any]],
                       context: SinkContext) -> DeliveryReport:
    """Create or complete Salesforce tasks for the delivered transitions."""
    return _deliver(SALESFORCE, decisions, context)


_COMMON = {
    "token_env": ParamSpec("string", required=True, is_env_name=True,
                           description="environment variable holding the API token "
                           "(UPSELL_RULES_..., or one run --allow-env names)"),
    "owners": ParamSpec("mapping", None, description="owner name -> CRM user id"),
    "priority": ParamSpec("string", None, description="task priority (default high)"),
    "due_days": ParamSpec("integer", 3, description="due after this many days when the "
                          "play's window gives no date"),
    "retries": ParamSpec("integer", 4, description="retries after a 429, 5xx or no answer"),
    "backoff": ParamSpec("number", 0.5, description="seconds of the first retry's jitter "
                         "range, doubled each time"),
    "max_wait": ParamSpec("number", 60, description="longest wait for a Retry-After"),
    "timeout": ParamSpec("number", 20, description="seconds to wait for an answer"),
}

HUBSPOT_SINK = Sink(
    name="hubspot",
    description="Create a HubSpot task when an account enters act-now and complete it "
    "when it leaves (CRM tasks API v3); for run --state.",
    deliver=deliver_hubspot,
    options={**_COMMON, "base_url": ParamSpec("string", "https://api.hubapi.com",
                                              description="API base URL")},
)

SALESFORCE_SINK = Sink(
    name="salesforce",
    description="Create a Salesforce Task when an account enters act-now and complete it "
    "when it leaves (REST sObject API); for run --state.",
    deliver=deliver_salesforce,
    options={
        **_COMMON,
        "instance_url": ParamSpec("string", required=True,
                                  description="https://MyDomain.my.salesforce.com"),
        "api_version": ParamSpec("string", "v60.0", description="REST API version"),
        "external_id_field": ParamSpec("string", None, description="a Task external-id "
                                       "field: upsert by the transition key (no repeats)"),
    },
    target_option="instance_url",
)


@hookimpl(trylast=True)
def upsell_rules_sinks(register: Callable[[Sink], None]) -> None:
    """Register the hubspot and salesforce sinks."""
    register(HUBSPOT_SINK)
    register(SALESFORCE_SINK)
