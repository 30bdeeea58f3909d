"""Admin: users, the audit log, reference data, jobs and (in demo mode) the demo reset."""

from console.ui import guard  # first: a deep link shows the login form and nothing else

user = guard(page="admin")

import streamlit as st

from console.admin import (
    audit_filter_options,
    audit_log,
    list_users,
    reference_tables,
    staff_without_login,
    team_options,
)
from console.auth import AuthError, create_user, reset_password, set_user_active, update_user
from console.demo import DemoError, start_demo_reset
from console.i18n import department_label, role_label, t
from console.jobs import recent_jobs
from console.meta import demo_marker, demo_mode
from console.permissions import ROLES
from console.timeutil import today_local
from console.ui import fmt_local, guard, pager, session, show_error
from console.ui.jobs import follow_job
from models.people import DEPARTMENTS

actor = user.actor
st.title(t("Admin"))
tab_users, tab_audit, tab_ref, tab_jobs, tab_imports = st.tabs(
    [t("Users"), t("Audit log"), t("Reference data"), t("Jobs"), t("Imports")]
)

with tab_users:
    with session() as s:
        users = list_users(session=s, actor=actor)
    users_view = users.drop(columns=["id", "team_id"])
    users_view["role"] = users_view["role"].map(role_label)
    users_view["department"] = users_view["department"].map(department_label)
    st.dataframe(
        users_view,
        hide_index=True,
        column_config={
            "username": t("Username"),
            "role": t("Role"),
            "staff": t("Staff member"),
            "staff_code": t("Code"),
            "team": t("Team"),
            "department": t("Department"),
            "active": st.column_config.CheckboxColumn(t("Active")),
            "must_change_password": st.column_config.CheckboxColumn(t("Must change password")),
            "locked_until": st.column_config.DatetimeColumn(t("Locked until"), format="YYYY-MM-DD HH:mm"),
            "last_login_at": st.column_config.DatetimeColumn(t("Last login"), format="YYYY-MM-DD HH:mm"),
        },
        key="admin.users_table",
    )
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(t("Create a user"))
        with session() as s:
            staff_opts = staff_without_login(session=s, actor=actor)
        with st.form("admin.create_user", clear_on_submit=True):
            new_username = st.text_input(t("Username"), key="admin.new_username")
            new_role = st.selectbox(t("Role"), ROLES, format_func=role_label, key="admin.new_role")
            staff_choice = st.selectbox(
                t("Staff member"),
                [None, *[sid for sid, _ in staff_opts]],
                format_func=lambda sid: t("(none)") if sid is None else dict(staff_opts)[sid],
                key="admin.new_staff",
            )
            temp_pw = st.text_input(t("Temporary password"), type="password", key="admin.new_password")
            if st.form_submit_button(t("Create user"), type="primary"):
                try:
                    with session() as s:
                        create_user(
                            session=s,
                            actor=actor,
                            username=new_username,
                            role=new_role,
                            password=temp_pw,
                            staff_id=staff_choice,
                        )
                    st.success(
                        t(
                            "User {username} created; they must change the password at first login.",
                            username=new_username,
                        )
                    )
                except (AuthError, ValueError) as exc:
                    show_error(exc)
    with right:
        st.subheader(t("Edit a user"))
        if users.empty:
            st.info(t("No users yet."))
        else:
            options = list(users["id"])
            labels = dict(zip(users["id"], users["username"] + " · " + users["role"], strict=True))
            uid = st.selectbox(t("User"), options, format_func=lambda i: labels[i], key="admin.edit_user")
            row = users[users["id"] == uid].iloc[0]
            role = st.selectbox(
                t("Role"), ROLES, index=ROLES.index(row["role"]), format_func=role_label, key=f"admin.edit_role.{uid}"
            )
            with session() as s:
                teams = team_options(session=s, actor=actor)
            team_ids = [None, *[tid for tid, _ in teams]]
            current_team = None if row["team_id"] is None or row["team_id"] != row["team_id"] else int(row["team_id"])
            team = st.selectbox(
                t("Team"),
                team_ids,
                index=team_ids.index(current_team) if current_team in team_ids else 0,
                format_func=lambda v: t("(none)") if v is None else dict(teams)[v],
                key=f"admin.edit_team.{uid}",
            )
            departments = [None, *DEPARTMENTS]
            current_dep = row["department"] if row["department"] in DEPARTMENTS else None
            department = st.selectbox(
                t("Department"),
                departments,
                index=departments.index(current_dep),
                format_func=lambda v: t("(none)") if v is None else t(v),
                key=f"admin.edit_dep.{uid}",
            )
            c1, c2 = st.columns(2)
            if c1.button(t("Save"), key="admin.edit_save", type="primary"):
                try:
                    with session() as s:
                        update_user(
                            session=s, actor=actor, user_id=int(uid), role=role, team_id=team, department=department
                        )
                    st.toast(t("Saved."))
                    st.rerun()
                except (AuthError, ValueError) as exc:
                    show_error(exc)
            label = t("Deactivate") if bool(row["active"]) else t("Reactivate")
            if c2.button(label, key="admin.edit_active"):
                try:
                    with session() as s:
                        set_user_active(session=s, actor=actor, user_id=int(uid), active=not bool(row["active"]))
                    st.toast(t("Saved."))
                    st.rerun()
                except (AuthError, ValueError) as exc:
                    show_error(exc)
            with st.form("admin.reset_pw", clear_on_submit=True):
                temp = st.text_input(t("Temporary password"), type="password", key="admin.reset_password")
                if st.form_submit_button(t("Reset password")):
                    try:
                        with session() as s:
                            reset_password(session=s, actor=actor, user_id=int(uid), temporary_password=temp)
                        st.success(
                            t(
                                "Password reset: {username} must choose a new one at next login.",
                                username=row["username"],
                            )
                        )
                    except (AuthError, ValueError) as exc:
                        show_error(exc)

with tab_audit:
    with session() as s:
        opts = audit_filter_options(session=s, actor=actor)
    f1, f2, f3, f4, f5 = st.columns(5)
    actor_f = f1.selectbox(
        t("Actor"), [None, *opts["actors"]], format_func=lambda v: t("Any") if v is None else v, key="admin.audit_actor"
    )
    action_f = f2.selectbox(
        t("Action"),
        [None, *opts["actions"]],
        format_func=lambda v: t("Any") if v is None else v,
        key="admin.audit_action",
    )
    entity_f = f3.selectbox(
        t("Entity"),
        [None, *opts["entities"]],
        format_func=lambda v: t("Any") if v is None else v,
        key="admin.audit_entity",
    )
    date_from = f4.date_input(t("From"), value=None, key="admin.audit_from")
    date_to = f5.date_input(t("To"), value=None, key="admin.audit_to")
    with session() as s:
        total = audit_log(
            session=s,
            actor=actor,
            actor_name=actor_f,
            action=action_f,
            entity=entity_f,
            date_from=date_from,
            date_to=date_to,
            limit=0,
        ).total
        offset, limit = pager(total, key="admin.audit_page")
        page = audit_log(
            session=s,
            actor=actor,
            actor_name=actor_f,
            action=action_f,
            entity=entity_f,
            date_from=date_from,
            date_to=date_to,
            offset=offset,
            limit=limit,
        )
    if page.rows.empty:
        st.info(t("No audit rows match these filters."))
    else:
        st.dataframe(
            page.rows,
            hide_index=True,
            column_config={
                "at": st.column_config.DatetimeColumn(
                    t("When"), format="YYYY-MM-DD HH:mm:ss", timezone="Asia/Shanghai"
                ),
                "actor": t("Actor"),
                "action": t("Action"),
                "entity": t("Entity"),
                "entity_id": "ID",
                "batch": "Batch",
                "params": t("Parameters"),
                "counts": t("Counts"),
                "before": t("Before"),
                "after": t("After"),
            },
            key="admin.audit_table",
        )

with tab_ref:
    with session() as s:
        ref = reference_tables(session=s, actor=actor, today=today_local())
    # (heading, table, column labels) of each reference table; "spend_yuan" is money.
    reference_views = [
        (
            "Tier ladder",
            "tiers",
            {
                "rank": "Rank",
                "name": "Name",
                "spend_yuan": "Spend ≥ (¥)",
                "purchases": "Purchases ≥",
                "both": "Both required",
                "ratio": "VIPs per manager",
                "units": "Units",
                "contact_days": "Contact every (days)",
                "effective_from": "Effective from",
            },
        ),
        (
            "Scorecards",
            "scorecards",
            {
                "name": "Name",
                "stream": "Stream",
                "version": "Version",
                "status": "Status",
                "pass_mark": "Pass mark",
                "sections": "Sections",
                "items": "Items",
            },
        ),
        (
            "Reception levels",
            "levels",
            {
                "level": "Level",
                "name": "Name",
                "applies_to": "Applies to",
                "reinforcements": "Reinforcements",
                "on_duty": "On duty",
                "shift_groups": "Shift groups",
                "rotation_hours": "Rotation (h)",
                "posts": "Posts",
                "post_list": "Guard posts",
            },
        ),
        (
            "Checklist templates",
            "templates",
            {
                "code": "Code",
                "name": "Name",
                "version": "Version",
                "status": "Status",
                "items": "Items",
            },
        ),
        (
            "Discipline rules",
            "discipline",
            {
                "code": "Code",
                "category": "Category",
                "rule": "Rule",
                "points": "Points",
                "source": "Source",
            },
        ),
    ]
    for heading, table, column_labels in reference_views:
        st.subheader(t(heading))
        config = {col: t(label) for col, label in column_labels.items()}
        if "spend_yuan" in config:
            config["spend_yuan"] = st.column_config.NumberColumn(t("Spend ≥ (¥)"), format="localized")
        st.dataframe(ref[table], hide_index=True, column_config=config, key=f"admin.ref_{table}")

with tab_jobs:
    with session() as s:
        is_demo = demo_mode(s)
        marker = demo_marker(s) or {}
        jobs = [
            {
                "id": j.id,
                "kind": j.kind,
                "status": t(j.status),
                "progress": (j.progress / j.total) if j.total else 0.0,
                "message": j.message,
                "created": fmt_local(j.created_at),
                "finished": fmt_local(j.finished_at),
            }
            for j in recent_jobs(s)
        ]
    if is_demo:
        st.subheader(t("Reset demo data"))
        st.caption(
            f"{t('Scale')}: {marker.get('scale', '?')} · {t('Seed')}: {marker.get('seed', '?')} · as-of {marker.get('as_of', '?')}"
        )

        @st.dialog(t("Reset the demo data"))
        def confirm_reset() -> None:
            st.warning(
                t(
                    "This deletes every customer, call, evaluation, visit and login and seeds the demo again, anchored to today. Audit rows and jobs are kept."
                )
            )
            typed = st.text_input(t("Type RESET to confirm"), key="admin.reset_confirm")
            c1, c2 = st.columns(2)
            if c1.button(t("Start the reset"), type="primary", disabled=typed.strip() != "RESET", key="admin.reset_go"):
                try:
                    with session() as s:
                        job_id = start_demo_reset(session=s, actor=actor)
                    st.session_state["admin.reset_job"] = job_id
                    st.rerun()
                except (DemoError, ValueError) as exc:
                    show_error(exc)
            if c2.button(t("Cancel"), key="admin.reset_cancel"):
                st.rerun()

        if st.button(t("Reset demo data"), key="admin.reset_open", icon=":material/restart_alt:"):
            confirm_reset()
        if st.session_state.get("admin.reset_job"):
            follow_job(st.session_state["admin.reset_job"], key="admin.reset_follow")
    else:
        st.caption(t("Demo mode is off for this database: the reset exists only for demo databases."))
    st.subheader(t("Jobs"))
    if not jobs:
        st.info(t("No jobs yet."))
    else:
        st.dataframe(
            jobs,
            hide_index=True,
            column_config={
                "id": "ID",
                "kind": t("Kind"),
                "status": t("Status"),
                "progress": st.column_config.ProgressColumn(t("Progress"), min_value=0, max_value=1, format="percent"),
                "message": t("Message"),
                "created": t("Created"),
                "finished": t("Finished"),
            },
            key="admin.jobs_table",
        )

with tab_imports:  # --- imports (issue 8) ---
    from console.ui.imports_page import render_imports

    render_imports(user)
