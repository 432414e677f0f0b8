"""The console's widgets: one view per tab, each built around a model from :mod:`.models`.

Views build private child widgets, link them to their model's traits and re-render when the
model changes. Button callbacks are one-liners that hand a model action to a
:class:`Feedback`, which runs it inside an Output and shows any failure there with the
library's message and next step (errors raised in widget callbacks are otherwise lost in
JupyterLab). No constructor calls ``display()``: the notebook displays the console.

Every widget a test or a browser needs to find carries a ``dsshare-*`` CSS class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
from botocore.exceptions import BotoCoreError

from dsshare.errors import DsShareError
from dsshare.model import ALL_REGIONS
from dsshare.validation import METHODS

from . import render
from .models import (
    ALL,
    ConnectionModel,
    ConsoleModel,
    InventoryModel,
    InvitationsModel,
    ShareModel,
    SharesModel,
)

__all__ = [
    "ConnectionView",
    "ConsoleView",
    "Feedback",
    "InventoryView",
    "InvitationsView",
    "ShareView",
    "SharesView",
]

logger = logging.getLogger(__name__)

TAB_TITLES = ("Connection", "Share", "Shares", "Invitations", "Inventory")


def _button(description: str, css: str, *, style: str = "", tooltip: str = "") -> Any:
    button = widgets.Button(description=description, button_style=style, tooltip=tooltip)
    button.add_class(css)
    return button


def _show(widget: Any, visible: bool) -> None:
    widget.layout.display = None if visible else "none"


class Feedback(widgets.VBox):  # type: ignore[misc]
    """Runs console actions and shows what happened, failures included, where they happened.

    ``run`` never raises: a :class:`~dsshare.errors.DsShareError` is shown with its message and
    next step; anything else is shown with a next step and the traceback folded away.
    Output the action displays (a progress bar, for example) appears below the message.
    """

    def __init__(self) -> None:
        self._message = widgets.HTML()
        self._output = widgets.Output()
        super().__init__([self._message, self._output])
        self.add_class("dsshare-feedback")

    @property
    def message(self) -> str:
        """The HTML currently shown (for tests)."""
        return str(self._message.value)

    def run(self, action: Callable[[], object], done: str | Callable[[], str] = "",
            *, keep_output: bool = True) -> bool:  # fmt: skip
        """Run ``action``; show ``done`` (or what it returns, read afterwards) on success or
        the failure; return success. ``keep_output=False`` clears what the action displayed
        once it succeeded (a progress bar that closes itself would read "Loading widget")."""
        self._message.value = render.info_box("Working…", css_class="dsshare-busy")
        self._output.clear_output()
        with self._output:
            try:
                action()
            except DsShareError as err:
                text = str(err.args[0]) if err.args else str(err)
                self._message.value = render.error_box(text, err.next_step)
                return False
            except BotoCoreError as err:
                self._message.value = render.error_box(
                    f"Could not reach AWS: {err}",
                    "Check the endpoint and your network or credentials on the Connection tab "
                    "(for the sandbox: is `make sandbox` running?), then press Connect.",
                )
                return False
            except Exception as err:  # noqa: BLE001 - shown to the operator, never swallowed
                logger.exception("console action failed")
                self._message.value = render.unexpected_box(err)
                return False
        if not keep_output:
            self._output.clear_output()
        text = done() if callable(done) else done
        self._message.value = render.info_box(text, css_class="dsshare-done") if text else ""
        return True


def _regions_picker(css: str) -> Any:
    """The Regions row of the Share and Shares tabs: ``all`` or some of the directory's."""
    picker = widgets.SelectMultiple(
        description="Regions", rows=3, layout=widgets.Layout(width="360px"),
        tooltip="Regions the directory is in (RegionsInfo); all = every one of them",
    )  # fmt: skip
    picker.add_class(css)
    return picker


def _render_regions(picker: Any, available: Sequence[str], chosen: Sequence[str]) -> None:
    picker.options = [("all (every Region of the directory)" if r == ALL_REGIONS else r, r) for r in available]
    picker.rows = max(2, min(6, len(available)))
    picker.value = tuple(r for r in chosen if r in available)


class ConnectionView(widgets.VBox):  # type: ignore[misc]
    """Connection tab: credentials or sandbox endpoint, Region, Connect, and who we are."""

    def __init__(self, console: ConsoleModel, feedback: Feedback | None = None) -> None:
        self._console = console
        model: ConnectionModel = console.connection
        self._model = model
        self.feedback = feedback or Feedback()
        profiles = [("default credential chain", "")] + [(p, p) for p in model.profiles]
        self._profile = widgets.Dropdown(options=profiles, value=model.profile or "", description="Credentials")
        self._endpoint = widgets.Text(
            value=model.endpoint_url,
            description="Endpoint",
            placeholder="sandbox URL, e.g. http://127.0.0.1:4566; empty for AWS",
            layout=widgets.Layout(width="480px"),
        )
        regions = list(dict.fromkeys([model.region, *model.regions]))
        self._region = widgets.Dropdown(options=regions, value=model.region, description="Region")
        self._connect = _button("Connect", "dsshare-connect", style="primary")
        self._identity = widgets.HTML()
        self._identity.add_class("dsshare-identity")
        for name, widget in (("profile", self._profile), ("endpoint_url", self._endpoint),
                             ("region", self._region)):  # fmt: skip
            widgets.link((model, name), (widget, "value"))
        self.on_connect: Callable[[], object] | None = None
        self._connect.on_click(lambda _: self._console_connect())
        model.observe(self._render, "identity")
        self._render()
        super().__init__([
            widgets.HTML("Choose credentials (a profile, or the default chain) or a sandbox "
                         "endpoint, and a Region, then press <b>Connect</b>."),
            self._profile, self._endpoint, self._region, self._connect, self.feedback,
            self._identity,
        ])  # fmt: skip

    def _console_connect(self) -> None:
        if self.on_connect is not None:
            self.on_connect()  # the console's connect: also opens the right tab
        else:
            self.feedback.run(self._console.connect, done="Connected.")

    def _render(self, _: Any = None) -> None:
        self._identity.value = render.key_values(self._model.describe())


class ShareView(widgets.VBox):  # type: ignore[misc]
    """Share tab: directory and target pickers, method and notes, Preview and Apply."""

    def __init__(self, model: ShareModel, feedback: Feedback | None = None) -> None:
        self._model = model
        self.feedback = feedback or Feedback()
        self._syncing = False
        wide = widgets.Layout(width="720px")
        self._directory = widgets.Dropdown(description="Directory", layout=wide)
        self._directory.add_class("dsshare-directory")
        self._filter = widgets.Text(description="Filter", placeholder="type to filter accounts and OUs",
                                    continuous_update=True, layout=wide)  # fmt: skip
        self._filter.add_class("dsshare-target-filter")
        self._regions = _regions_picker("dsshare-share-regions")
        self._targets = widgets.SelectMultiple(description="Targets", rows=12, layout=wide)
        self._targets.add_class("dsshare-targets")
        self._typed = widgets.Textarea(description="Account ids", placeholder="12-digit ids, separated by spaces, commas or lines",
                                       layout=widgets.Layout(width="720px", height="48px"))  # fmt: skip
        self._typed.add_class("dsshare-typed")
        self._typed_check = widgets.HTML()
        self._summary = widgets.HTML()
        self._summary.add_class("dsshare-target-summary")
        self._method = widgets.ToggleButtons(options=list(METHODS), description="Method")
        self._method.add_class("dsshare-method")
        self._notes = widgets.Textarea(description="Notes", placeholder="ShareNotes: what the consumer's administrator reads before accepting (HANDSHAKE)",
                                       layout=widgets.Layout(width="720px", height="60px"))  # fmt: skip
        self._notes.add_class("dsshare-notes")
        self._external = widgets.Checkbox(description="Allow accounts outside the organization (HANDSHAKE)",
                                         indent=False, layout=widgets.Layout(width="auto"))  # fmt: skip
        self._preview = _button("Preview", "dsshare-preview", style="info", tooltip="Plan without changing anything")
        self._apply = _button("Apply", "dsshare-apply", style="warning", tooltip="Carry out the reviewed plan")
        self._question = widgets.HTML()
        self._confirm = _button("Confirm", "dsshare-confirm", style="danger")
        self._cancel = _button("Cancel", "dsshare-cancel")
        self._confirm_box = widgets.HBox([self._question, self._confirm, self._cancel])
        self._confirm_box.add_class("dsshare-confirm-box")
        self._plan = widgets.HTML()
        self._plan.add_class("dsshare-plan")
        self._result = widgets.HTML()
        self._result.add_class("dsshare-result")

        widgets.link((model, "filter_text"), (self._filter, "value"))
        widgets.link((model, "typed"), (self._typed, "value"))
        widgets.link((model, "method"), (self._method, "value"))
        widgets.link((model, "notes"), (self._notes, "value"))
        widgets.link((model, "allow_external"), (self._external, "value"))
        self._directory.observe(self._directory_chosen, "value")
        self._targets.observe(self._targets_chosen, "value")
        self._regions.observe(self._regions_chosen, "value")
        model.observe(self._render_regions, ["regions_available", "regions"])
        model.observe(self._render_directories, "directories")
        model.observe(self._render_directory, "directory_id")
        model.observe(self._render_targets, ["visible", "selected"])
        model.observe(self._render_typed, ["typed_valid", "typed_errors", "selected"])
        model.observe(self._render_plan, ["stage", "plan", "result"])

        self._preview.on_click(lambda _: self.feedback.run(
            model.preview, done="Plan ready: review the rows, then press Apply (nothing has changed yet)."))
        self._apply.on_click(lambda _: self.feedback.run(model.request_apply))
        self._confirm.on_click(lambda _: self.feedback.run(model.confirm_apply, done=model.result_message))
        self._cancel.on_click(lambda _: self.feedback.run(model.cancel_apply))

        self._render_directories()
        self._render_regions()
        self._render_targets()
        self._render_typed()
        self._render_plan()
        super().__init__([
            self._directory, self._regions, self._filter, self._targets, self._typed, self._typed_check,
            self._summary, self._method, self._notes, self._external,
            widgets.HBox([self._preview, self._apply]), self._confirm_box, self.feedback,
            self._plan, self._result,
        ])  # fmt: skip

    # -- widget -> model ---------------------------------------------------------------

    def _directory_chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self._model.directory_id = change["new"]

    def _targets_chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._model.choose_visible(list(change["new"]))

    def _regions_chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"]:
            self._model.regions = list(change["new"])

    def _render_regions(self, _: Any = None) -> None:
        self._syncing = True
        try:
            _render_regions(self._regions, self._model.regions_available, self._model.regions)
        finally:
            self._syncing = False

    # -- model -> widgets --------------------------------------------------------------

    def _render_directories(self, _: Any = None) -> None:
        self._syncing = True
        try:
            self._directory.options = [(d.label, d.directory_id) for d in self._model.directories]
            ids = [d.directory_id for d in self._model.directories]
            self._directory.value = self._model.directory_id if self._model.directory_id in ids else None
        finally:
            self._syncing = False

    def _render_directory(self, _: Any = None) -> None:
        self._syncing = True
        try:
            ids = [d.directory_id for d in self._model.directories]
            self._directory.value = self._model.directory_id if self._model.directory_id in ids else None
        finally:
            self._syncing = False

    def _render_targets(self, _: Any = None) -> None:
        self._syncing = True
        try:
            visible = self._model.visible
            self._targets.options = [(t.label, t.id) for t in visible]
            shown = {t.id for t in visible}
            self._targets.value = tuple(s for s in self._model.selected if s in shown)
        finally:
            self._syncing = False

    def _render_typed(self, _: Any = None) -> None:
        model = self._model
        if model.typed_errors:
            self._typed_check.value = render.error_box(
                "; ".join(model.typed_errors), "Account ids are 12 digits; correct or remove these."
            )
        elif model.typed_valid:
            self._typed_check.value = render.info_box(f"{len(model.typed_valid)} typed account id(s) valid.")
        else:
            self._typed_check.value = ""
        self._summary.value = render.info_box(model.target_summary(), css_class="dsshare-summary")

    def _render_plan(self, _: Any = None) -> None:
        model = self._model
        self._apply.disabled = not (model.stage == "previewed" and model.change_count() > 0)
        _show(self._confirm_box, model.stage == "confirming")
        self._question.value = (
            f"<b class='dsshare-question'>{render._e(model.confirmation_text())}</b>"
            if model.stage == "confirming" else ""
        )  # fmt: skip
        self._preview.disabled = model.stage == "confirming"
        plan = model.plan
        if plan is None:
            self._plan.value = ""
        else:
            summary = ", ".join(f"{n} {a}" for a, n in sorted(plan.summary().items()))
            self._plan.value = (
                f"<h4>Plan ({render._e(summary)})</h4>"
                + render.table(model.plan_frame(), ["region", "account_id", "account_name", "action", "reason", "check", "method",
                                                 "share_status", "shared_directory_id", "external"],
                               colour_by="action")
                + f'<div class="dsshare-fingerprint">Fingerprint: <code>{render._e(plan.fingerprint)}</code></div>'
            )  # fmt: skip
        if model.result is None:
            self._result.value = ""
        else:
            self._result.value = "<h4>Result</h4>" + render.table(
                model.with_names(model.result),
                ["region", "account_id", "account_name", "action", "outcome", "share_status",
                 "shared_directory_id", "error_code", "message"],
                colour_by="outcome",
            )  # fmt: skip


class SharesView(widgets.VBox):  # type: ignore[misc]
    """Shares tab: a directory's share records; refresh, and unshare after confirmation."""

    def __init__(self, model: SharesModel, feedback: Feedback | None = None) -> None:
        self._model = model
        self.feedback = feedback or Feedback()
        self._syncing = False
        self._directory = widgets.Dropdown(description="Directory", layout=widgets.Layout(width="720px"))
        self._directory.add_class("dsshare-shares-directory")
        self._regions = _regions_picker("dsshare-shares-regions")
        self._refresh = _button("Refresh", "dsshare-refresh", tooltip="Read the share records again")
        self._table = widgets.HTML()
        self._table.add_class("dsshare-shares-table")
        self._select = widgets.SelectMultiple(description="Unshare", rows=6, layout=widgets.Layout(width="720px"))
        self._select.add_class("dsshare-unshare-select")
        self._unshare = _button("Unshare selected", "dsshare-unshare", style="warning")
        self._question = widgets.HTML()
        self._confirm = _button("Confirm unshare", "dsshare-unshare-confirm", style="danger")
        self._cancel = _button("Cancel", "dsshare-unshare-cancel")
        self._confirm_box = widgets.HBox([self._question, self._confirm, self._cancel])
        self._confirm_box.add_class("dsshare-unshare-confirm-box")
        self._result = widgets.HTML()
        self._result.add_class("dsshare-unshare-result")

        self._directory.observe(self._directory_chosen, "value")
        self._select.observe(self._rows_chosen, "value")
        self._regions.observe(self._regions_chosen, "value")
        model.observe(self._render_regions, ["regions_available", "regions"])
        model.observe(self._render_directories, ["directories", "directory_id"])
        model.observe(self._render, ["frame", "selected", "confirming", "result"])
        self._refresh.on_click(lambda _: self.feedback.run(model.refresh))
        self._unshare.on_click(lambda _: self.feedback.run(model.request_unshare))
        self._confirm.on_click(lambda _: self.feedback.run(model.confirm_unshare, done=model.result_message))
        self._cancel.on_click(lambda _: self.feedback.run(model.cancel_unshare))
        self._render_directories()
        self._render_regions()
        self._render()
        super().__init__([
            self._directory, self._regions, self._refresh, self.feedback, self._table, self._select,
            self._unshare, self._confirm_box, self._result,
        ])  # fmt: skip

    def refresh(self) -> None:
        """Refresh through the feedback (used when the tab is opened)."""
        if self._model.services is not None and self._model.directory_id:
            self.feedback.run(self._model.refresh)

    def _directory_chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"] is not None:
            self._model.directory_id = change["new"]

    def _rows_chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._model.selected = list(change["new"])

    def _regions_chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing and change["new"]:
            self._model.regions = list(change["new"])
            self.refresh()  # other Regions: read their records at once

    def _render_regions(self, _: Any = None) -> None:
        self._syncing = True
        try:
            _render_regions(self._regions, self._model.regions_available, self._model.regions)
        finally:
            self._syncing = False

    def _render_directories(self, _: Any = None) -> None:
        self._syncing = True
        try:
            self._directory.options = [(d.label, d.directory_id) for d in self._model.directories]
            ids = [d.directory_id for d in self._model.directories]
            self._directory.value = self._model.directory_id if self._model.directory_id in ids else None
        finally:
            self._syncing = False

    def _render(self, _: Any = None) -> None:
        model = self._model
        self._syncing = True
        try:
            options = model.unsharable()
            self._select.options = options
            allowed = {acct for _, acct in options}
            self._select.value = tuple(s for s in model.selected if s in allowed)
        finally:
            self._syncing = False
        self._table.value = render.table(
            model.frame, colour_by=None,
            empty="No share records (press Refresh to read them)." if model.frame is None else "No share records.",
        )  # fmt: skip
        _show(self._confirm_box, model.confirming)
        self._question.value = (
            f"<b class='dsshare-question'>{render._e(model.confirmation_text())}</b>"
            if model.confirming else ""
        )  # fmt: skip
        self._result.value = "" if model.result is None else "<h4>Unshare result</h4>" + render.table(
            model.result, ["region", "account_id", "action", "outcome", "share_status", "error_code", "message"],
            colour_by="outcome",
        )  # fmt: skip


class InvitationsView(widgets.VBox):  # type: ignore[misc]
    """Invitations tab: find pending shares in consumer accounts; accept or reject them."""

    def __init__(self, model: InvitationsModel, feedback: Feedback | None = None) -> None:
        self._model = model
        self.feedback = feedback or Feedback()
        self._syncing = False
        label = {"description_width": "110px"}
        self._accounts = widgets.SelectMultiple(description="Consumers", rows=8, style=label,
                                                layout=widgets.Layout(width="820px"))  # fmt: skip
        self._accounts.add_class("dsshare-consumers")
        self._all = _button("All accounts", "dsshare-all-consumers")
        self._pending_only = widgets.Checkbox(description="Pending only", indent=False,
                                             layout=widgets.Layout(width="auto"))  # fmt: skip
        self._find = _button("Find invitations", "dsshare-find", style="info")
        self._list = widgets.SelectMultiple(description="Invitations", rows=8, style=label,
                                            layout=widgets.Layout(width="820px"))  # fmt: skip
        self._list.add_class("dsshare-invitations")
        self._accept = _button("Accept", "dsshare-accept", style="success", tooltip="Review, then confirm")
        self._reject = _button("Reject", "dsshare-reject", style="danger", tooltip="Review, then confirm")
        self._question = widgets.HTML()
        self._confirm = _button("Confirm", "dsshare-invitation-confirm", style="danger")
        self._cancel = _button("Cancel", "dsshare-invitation-cancel")
        self._confirm_box = widgets.HBox([self._question, self._confirm, self._cancel],
                                         layout=widgets.Layout(flex_flow="row wrap"))  # fmt: skip
        self._confirm_box.add_class("dsshare-invitation-confirm-box")
        self._table = widgets.HTML()
        self._table.add_class("dsshare-invitations-table")

        widgets.link((model, "pending_only"), (self._pending_only, "value"))
        self._accounts.observe(self._accounts_chosen, "value")
        self._list.observe(self._invitations_chosen, "value")
        model.observe(self._render, ["accounts", "chosen", "invitations", "acted", "selected",
                                     "pending_only", "answer"])  # fmt: skip
        self._all.on_click(lambda _: self.feedback.run(model.choose_all))
        self._find.on_click(lambda _: self.feedback.run(model.find))
        self._accept.on_click(lambda _: self.feedback.run(
            model.accept, done="Nothing is answered yet: read the question, then press Confirm or Cancel."))
        self._reject.on_click(lambda _: self.feedback.run(
            model.reject, done="Nothing is answered yet: read the question, then press Confirm or Cancel."))
        self._confirm.on_click(lambda _: self.feedback.run(model.confirm, done=lambda: model.last))
        self._cancel.on_click(lambda _: self.feedback.run(model.cancel, done="Cancelled: nothing was answered."))
        self._render()
        super().__init__([
            widgets.HTML("Pick consumer accounts (reached through the cross-account role), "
                         "press <b>Find invitations</b>, select invitations, press <b>Accept</b> or "
                         "<b>Reject</b>, then <b>Confirm</b>."),
            self._accounts, widgets.HBox([self._all, self._pending_only, self._find]), self.feedback,
            self._list, widgets.HBox([self._accept, self._reject]), self._confirm_box, self._table,
        ])  # fmt: skip

    def _accounts_chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._model.chosen = list(change["new"])

    def _invitations_chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._model.selected = list(change["new"])

    def _render(self, _: Any = None) -> None:
        model = self._model
        self._syncing = True
        try:
            self._accounts.options = [(a.label, a.id) for a in model.accounts]
            known = {a.id for a in model.accounts}
            self._accounts.value = tuple(c for c in model.chosen if c in known)
            visible = model.visible()
            self._list.options = [(i.label, i.shared_directory_id) for i in visible]
            shown = {i.shared_directory_id for i in visible}
            self._list.value = tuple(s for s in model.selected if s in shown)
        finally:
            self._syncing = False
        _show(self._confirm_box, bool(model.answer))
        self._question.value = (
            f"<b class='dsshare-question'>{render._e(model.confirmation_text())}</b>" if model.answer else ""
        )
        self._table.value = render.table(
            model.frame(),
            ["account_id", "account_name", "directory_name", "owner_account_id", "ShareStatus",
             "ShareMethod", "SharedDirectoryId", "ShareNotes"],
            empty="No invitations found yet (press Find invitations).",
        )  # fmt: skip


class InventoryView(widgets.VBox):  # type: ignore[misc]
    """Inventory tab: collect, filter, headline numbers, charts and export."""

    def __init__(self, model: InventoryModel, feedback: Feedback | None = None) -> None:
        self._model = model
        self.feedback = feedback or Feedback()
        self._syncing = False
        self._regions = widgets.SelectMultiple(description="Regions", rows=10)
        self._regions.add_class("dsshare-inventory-regions")
        self._collect = _button("Collect", "dsshare-collect", style="info", tooltip="Read every account and Region")
        self._filters = {
            name: widgets.Dropdown(description=label, options=[("(all)", ALL)], value=ALL)
            for name, label in (("account", "Account"), ("region", "Region"),
                                ("status", "Status"), ("directory", "Directory"))
        }  # fmt: skip
        for name, dropdown in self._filters.items():
            dropdown.add_class(f"dsshare-filter-{name}")
            dropdown.observe(self._filter_chosen(name), "value")
        self._tiles = widgets.HTML()
        self._tiles.add_class("dsshare-headline")
        self._charts = widgets.HTML()
        self._charts.add_class("dsshare-charts")
        self._table = widgets.HTML()
        self._table.add_class("dsshare-inventory-table")
        self._findings = widgets.HTML()
        self._findings.add_class("dsshare-findings")
        self._export_note = widgets.HTML()
        self._export_note.add_class("dsshare-export-note")
        self._folder = widgets.Text(description="Folder", layout=widgets.Layout(width="560px"),
                                    placeholder="empty: a new folder under runs/")  # fmt: skip
        self._export = _button("Export report", "dsshare-export", tooltip="Write the snapshot and the HTML report")
        self._exported = widgets.HTML()
        self._exported.add_class("dsshare-exported")
        self._replace_question = widgets.HTML()
        self._replace = _button("Replace snapshot", "dsshare-replace", style="warning",
                                tooltip="Replace the earlier snapshot in this folder")  # fmt: skip
        self._keep = _button("Keep it", "dsshare-keep", tooltip="Write nothing; choose another folder")

        widgets.link((model, "folder"), (self._folder, "value"))
        self._regions.observe(self._regions_chosen, "value")
        model.observe(self._render, ["regions_available", "regions", "inventory", "account",
                                     "region", "status", "directory", "exported",
                                     "replace_pending"])  # fmt: skip
        self._collect.on_click(lambda _: self.feedback.run(
            model.collect, done=lambda: f"Inventory collected at {model.collected_at()}.", keep_output=False))
        self._export.on_click(lambda _: self.feedback.run(
            model.export, done=lambda: f"Report written with {model.export_note()}."))
        self._replace.on_click(lambda _: self.feedback.run(
            model.confirm_replace, done=lambda: f"Report written with {model.export_note()}."))
        self._keep.on_click(lambda _: self.feedback.run(model.cancel_replace))
        self._render()
        super().__init__([
            widgets.HBox([self._regions, self._collect]), self.feedback,
            widgets.HBox(list(self._filters.values())[:2]), widgets.HBox(list(self._filters.values())[2:]),
            self._tiles, self._charts, self._findings, self._table,
            widgets.HBox([self._folder, self._export]), self._export_note,
            widgets.HBox([self._replace_question, self._replace, self._keep]), self._exported,
        ])  # fmt: skip

    def _filter_chosen(self, name: str) -> Callable[[dict[str, Any]], None]:
        def chosen(change: dict[str, Any]) -> None:
            if not self._syncing:
                setattr(self._model, name, change["new"] or ALL)

        return chosen

    def _regions_chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._model.regions = list(change["new"])

    def _render(self, _: Any = None) -> None:
        model = self._model
        columns = {"account": "SharedAccountId", "region": "region", "status": "ShareStatus",
                   "directory": "OwnerDirectoryId"}  # fmt: skip
        self._syncing = True
        try:
            self._regions.options = list(model.regions_available)
            self._regions.value = tuple(r for r in model.regions if r in model.regions_available)
            for name, dropdown in self._filters.items():
                values = model.options(columns[name])
                if name == "account" and model.inventory is not None:
                    values = sorted(set(values) | set(model.options("OwnerAccountId")))
                current = getattr(model, name)
                dropdown.options = [("(all)", ALL)] + [(model.label(columns[name], v), v) for v in values]
                dropdown.value = current if current in values else ALL
        finally:
            self._syncing = False
        if model.inventory is None:
            self._tiles.value = render.info_box("Press Collect to read the organization's sharing state.")
            self._charts.value = self._table.value = self._findings.value = self._export_note.value = ""
        else:
            self._tiles.value = (
                f"<div class='dsshare-collected-at'>Collected {render._e(model.collected_at())}</div>"
                + render.tiles(model.headline())
            )
            found = model.findings_by_severity()
            shown = [c for c in ("severity", "finding", "region", "account_id", "DirectoryId",
                                 "SharedAccountId", "detail", "action") if c in found.columns]  # fmt: skip
            self._findings.value = "<h4>Findings, most severe first</h4>" + render.table(
                found, shown or None, empty="No findings.")
            self._export_note.value = render.info_box(
                f"Export report writes {model.export_note()}.", css_class="dsshare-export-scope")
            quota = model.quota_frame().to_dict("records")
            used = {str(r["Name"]): 100.0 * float(r["utilisation"]) for r in quota}
            notes = {
                str(r["Name"]): f"{r['shares_counting']} of {r['share_quota']} used, {r['headroom']} free"
                for r in quota
            }
            self._charts.value = render.bar_chart(
                model.status_counts(), title="Share records by status"
            ) + render.bar_chart(
                used, title="Quota used per directory (%)", maximum=100.0, colours={}, suffix=notes
            )
            self._table.value = render.table(
                model.filtered_shares().rename(columns={"CreatedDateTime": "CreatedDateTime (UTC)"}),
                ["region", "OwnerAccountId", "owner_directory_name", "SharedAccountId", "ShareStatus",
                 "ShareMethod", "SharedDirectoryId", "CreatedDateTime (UTC)"],
                empty="No share records match the filters.",
            )  # fmt: skip
        self._exported.value = (
            render.info_box(f"Report written to {model.exported}", css_class="dsshare-exported-path")
            if model.exported else ""
        )  # fmt: skip
        self._replace_question.value = (
            f"<b>{render._e(model.folder)} holds an earlier dsshare snapshot. Replace it?</b>"
            if model.replace_pending else ""
        )  # fmt: skip
        for button in (self._replace, self._keep):
            _show(button, model.replace_pending)


class ConsoleView(widgets.VBox):  # type: ignore[misc]
    """The tabbed console. Display it; it does not display itself."""

    def __init__(self, model: ConsoleModel) -> None:
        self.model = model
        self.connection = ConnectionView(model)
        self.share = ShareView(model.share)
        self.shares = SharesView(model.shares)
        self.invitations = InvitationsView(model.invitations)
        self.inventory = InventoryView(model.inventory)
        self.connection.on_connect = self.connect
        self._gates = [_Gate(v) for v in (self.share, self.shares, self.invitations, self.inventory)]
        self.tabs = widgets.Tab(children=[self.connection, *self._gates])
        for index, title in enumerate(TAB_TITLES):
            self.tabs.set_title(index, title)
        self.tabs.add_class("dsshare-tabs")
        self.tabs.observe(self._tab_opened, "selected_index")
        title = widgets.HTML("<h3 style='margin:4px 0'>dsshare · directory sharing console</h3>")
        self.header = widgets.HTML()
        self.header.add_class("dsshare-header")
        model.connection.observe(self._render_header, "identity")
        model.observe(self._render_header, "services")
        model.share.observe(self._render_header, "targets")
        self._render_header()
        super().__init__([title, self.header, self.tabs])
        self.add_class("dsshare-console")

    def connect(self) -> bool:
        """Connect now (what the Connect button does); failures show on the Connection tab.

        A successful connect opens the Share tab; a failed one stays on the Connection tab
        with the action tabs saying they need a connection.
        """
        ok = self.connection.feedback.run(self.model.connect, done="Connected.")
        self.tabs.selected_index = 1 if ok else 0
        return ok

    def _render_header(self, _: Any = None) -> None:
        connected = self.model.connected
        style = "dsshare-header-connected" if connected else "dsshare-header-disconnected"
        self.header.value = f"<div class='{style}'>{render._e(self.model.header())}</div>"
        for gate in self._gates:
            gate.render(connected)

    def _tab_opened(self, change: dict[str, Any]) -> None:
        if change["new"] == 2:
            self.shares.refresh()


class _Gate(widgets.VBox):  # type: ignore[misc]
    """An action tab: its view while connected, else a note saying to connect first."""

    def __init__(self, view: Any) -> None:
        self.view = view
        self.note = widgets.HTML(render.info_box(
            "Not connected: this tab acts only through a working connection. Open the "
            "Connection tab, check the credentials, endpoint and Region, and press Connect.",
            css_class="dsshare-not-connected",
        ))  # fmt: skip
        super().__init__([self.note, view])

    def render(self, connected: bool) -> None:
        _show(self.note, not connected)
        _show(self.view, connected)
