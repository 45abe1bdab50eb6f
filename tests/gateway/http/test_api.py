"""The integration API on a real node, through httpx: submit, wait for the verdict, read mail."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import logging
import smtplib
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from openapi_spec_validator import validate

import gateway.http.submit
import gateway.lane
from edi_formats.codec import DeclarationIdentity, WireFormat, identify, render_declaration
from gateway.chaos import Chaos
from gateway.demo import DEMO_PASSWORD
from gateway.node import Node
from tests import mailbox_fill
from tests.gateway.http.rig import ADMIN, client, loop_pauses, median_seconds
from tests.gateway.pipeline.helpers import AGENT, OFFICE, OTHER_AGENT, OTHER_CODE, declaration
from tests.gateway.smtp.test_disk_full import cap_database
from tests.logs import told


async def test_openapi_document_names_the_stable_urls(rig: Node) -> None:
    async with client(rig, None) as http:
        answer = await http.get("/api/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    assert "post" in paths["/api/declarations"]
    assert "/api/declarations/{reference}" in paths
    assert answer.json()["openapi"].startswith("3.")
    validate(answer.json())  # raises on any departure from the OpenAPI specification
    body = paths["/api/declarations"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["oneOf"][0] == {"$ref": "#/components/schemas/DUA"}
    schemas = answer.json()["components"]["schemas"]
    assert "agent_reference" in schemas["DUA"]["properties"]
    assert {"text/plain", "application/EDIFACT"} <= set(body)


@pytest.mark.parametrize("fmt", [WireFormat.JSON, WireFormat.FLAT, WireFormat.EDIFACT])
async def test_submit_and_wait_for_an_acceptance_in_one_call_each(
    rig: Node, fmt: WireFormat
) -> None:
    body = render_declaration(declaration(reference=f"API-{fmt.value}"), fmt)
    async with client(rig) as http:
        posted = await http.post("/api/declarations", content=body)
        assert posted.status_code == 202, posted.text
        job = posted.json()["job"]
        verdict = await http.get(f"/api/declarations/API-{fmt.value}", params={"wait": 20})
    assert verdict.status_code == 200
    state = verdict.json()
    assert state["status"] == "accepted", state
    assert state["job"] == job
    assert state["number"].startswith("118-2026-")
    assert state["channel"] in ("verde", "naranja", "rojo")
    # The same reply mail as for a mailed declaration reached the agent's mailbox.
    async with client(rig) as http:
        listing = await http.get(f"/api/mailboxes/{AGENT}/messages")
        assert listing.status_code == 200
        (reply,) = listing.json()
        raw = await http.get(reply["url"])
    message = email.message_from_bytes(raw.content, policy=email.policy.default)
    assert message["X-Teledespacho-Number"] == state["number"]
    assert message["Subject"].startswith("ACEPTADA")


async def test_rejection_carries_findings_with_citations(rig: Node) -> None:
    body = render_declaration(
        declaration(reference="API-MALA", breaks="STR-TOTALS"), WireFormat.JSON
    )
    async with client(rig) as http:
        assert (await http.post("/api/declarations", content=body)).status_code == 202
        verdict = (await http.get("/api/declarations/API-MALA", params={"wait": 20})).json()
    assert verdict["status"] == "rejected"
    assert verdict["number"] is None
    assert verdict["findings"]
    assert all(f["citation"] and f["message"] for f in verdict["findings"])
    (totals,) = [f for f in verdict["findings"] if f["rule_id"] == "STR-TOTALS"]
    assert totals["severity"] == "error" and totals["field"]  # the casilla at fault
    assert verdict["received_at"] <= verdict["answered_at"]


async def test_by_number_and_job_and_scopes(rig: Node) -> None:
    body = render_declaration(declaration(reference="API-SCOPE"), WireFormat.JSON)
    async with client(rig) as http:
        job = (await http.post("/api/declarations", content=body)).json()["job"]
        done = (await http.get(f"/api/jobs/{job}", params={"wait": 20})).json()
    assert done["status"] == "done"
    (state,) = done["declarations"]
    number = state["number"]
    async with client(rig, OFFICE) as office:  # the office sees its office's declarations
        assert (await office.get(f"/api/declarations/{number}")).json()["reference"] == "API-SCOPE"
    async with client(rig, OTHER_AGENT) as other:  # another agent does not
        missing = await other.get(f"/api/declarations/{number}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["field"] == "reference"
    async with client(rig, "aduana-172@aduanas.gob.pe") as elsewhere:  # another office neither
        assert (await elsewhere.get(f"/api/declarations/{number}")).status_code == 404
    async with client(rig, ADMIN) as admin:  # an administrator sees everything
        assert (await admin.get(f"/api/declarations/{number}")).status_code == 200
        listing = (await admin.get("/api/declarations", params={"status": "accepted"})).json()
    assert [d["number"] for d in listing] == [number]


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "field"),
    [
        ("post", "/api/declarations", {"content": b""}, 400, "body"),
        ("post", "/api/declarations", {"content": b"hola"}, 415, "body"),
        ("post", "/api/declarations?office=1", {"content": b"{}"}, 422, "query.office"),
        ("get", "/api/declarations/REF?wait=-1", {}, 422, "query.wait"),
        ("get", "/api/declarations/REF?wait=abc", {}, 422, "query.wait"),
        ("get", "/api/declarations/" + "X" * 40, {}, 422, "path.reference"),
        ("get", "/api/jobs/0", {}, 422, "path.job"),
        ("get", "/api/jobs/99999999999999999999999", {}, 422, "path.job"),
        ("get", f"/api/mailboxes/{AGENT}/messages/9223372036854775808", {}, 422, "path.uid"),
        ("get", "/api/mailboxes/aduana-118@aduanas.gob.pe/messages", {}, 403, "address"),
        ("get", "/api/declarations?since=9999-12-31&until=9999-12-31", {}, 200, None),
    ],
)
async def test_bad_input_is_a_4xx_problem_naming_the_field(
    rig: Node, method: str, url: str, kwargs: dict[str, object], status: int, field: str | None
) -> None:
    async with client(rig) as http:
        answer = await http.request(method, url, **kwargs)  # type: ignore[arg-type]
    assert answer.status_code == status, answer.text
    if field is None:  # the calendar's ends: a valid request that finds nothing
        assert answer.json() == []
        return
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status
    assert answer.json()["field"] == field


async def test_oversized_body_is_refused_before_it_is_held(rig: Node) -> None:
    async with client(rig) as http:
        answer = await http.post("/api/declarations", content=b"{" + b" " * (21 * 1024 * 1024))
    assert answer.status_code == 413
    assert answer.json()["field"] == "body"


async def test_credentials_are_required_and_checked(rig: Node) -> None:
    async with client(rig, None) as http:
        assert (await http.get("/api/declarations")).status_code == 401
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{rig.port('http')}", auth=(AGENT, "wrong")
    ) as http:
        answer = await http.get("/api/declarations")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Basic")


async def test_only_agents_submit(rig: Node) -> None:
    body = render_declaration(declaration(reference="API-OFI"), WireFormat.JSON)
    async with client(rig, OFFICE) as http:
        assert (await http.post("/api/declarations", content=body)).status_code == 403


async def test_long_poll_returns_at_the_deadline_while_pending(rig: Node) -> None:
    """A reference nobody sent: no job pending, so 404 at once, not after the wait."""
    async with client(rig) as http:
        started = asyncio.get_running_loop().time()
        answer = await http.get("/api/declarations/NADIE", params={"wait": 30})
    assert answer.status_code == 404
    assert asyncio.get_running_loop().time() - started < 10


def _smtp_session(node: Node) -> list[tuple[int, bytes]]:
    """One submission with Python's smtplib; the replies it saw (or the exception's)."""
    seen: list[tuple[int, bytes]] = []
    smtp = smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10)
    try:
        steps = [
            smtp.ehlo,
            lambda: smtp.login(AGENT, DEMO_PASSWORD),
            lambda: smtp.mail(AGENT),
            lambda: smtp.rcpt(OFFICE),
            lambda: smtp.data(b"Subject: prueba\r\n\r\nhola\r\n"),
        ]
        for step in steps:
            code, text = step()
            if step is not steps[1]:
                seen.append((code, text))
            if code >= 400:
                smtp.quit()
                break
        else:
            smtp.quit()
    except smtplib.SMTPServerDisconnected:
        seen.append((0, b"disconnected"))
    finally:
        smtp.close()
    return seen


@pytest.mark.parametrize(
    ("stage", "code", "position"), [("mail", 451, 1), ("rcpt", 452, 2), ("data", 554, 3)]
)
async def test_chaos_answers_the_next_sessions_then_switches_off(
    rig: Node, stage: str, code: int, position: int
) -> None:
    async with client(rig, ADMIN) as admin:
        switched = await admin.put(
            "/api/admin/chaos", json={"smtp": {"stage": stage, "code": code, "sessions": 2}}
        )
        assert switched.status_code == 200, switched.text
    for _ in range(2):
        replies = await asyncio.to_thread(_smtp_session, rig)
        assert replies[position][0] == code, replies
    replies = await asyncio.to_thread(_smtp_session, rig)
    assert replies[-1][0] == 250  # the third session is served normally


async def test_chaos_421_closes_the_connection_and_can_be_switched_off(rig: Node) -> None:
    async with client(rig, ADMIN) as admin:
        await admin.put(
            "/api/admin/chaos", json={"smtp": {"stage": "helo", "code": 421, "sessions": 5}}
        )
        replies = await asyncio.to_thread(_smtp_session, rig)
        assert replies[0][0] == 421
        assert replies[-1] == (0, b"disconnected")
        off = await admin.delete("/api/admin/chaos")
        assert off.json() == {"smtp": None, "answer_delay": 0.0, "modem": None}
    replies = await asyncio.to_thread(_smtp_session, rig)
    assert replies[-1][0] == 250


async def test_test_rig_administration_needs_admin_and_setting(rig: Node, node: Node) -> None:
    async with client(rig) as agent:
        answer = await agent.put(
            "/api/admin/chaos", json={"smtp": {"stage": "mail", "code": 451, "sessions": 1}}
        )
        assert answer.status_code == 403
    async with client(node, "aduana-000@aduanas.gob.pe") as hq:  # setting off on ``node``
        switches = [
            ("GET", "/api/admin/clock", None),
            ("PUT", "/api/admin/clock", {"date": "1997-03-03"}),
            ("POST", "/api/admin/reset", None),
            ("GET", "/api/admin/chaos", None),
            ("PUT", "/api/admin/chaos", {"answer_delay": 1}),
            ("DELETE", "/api/admin/chaos", None),
        ]
        for method, url, body in switches:
            refused = await hq.request(method, url, json=body)
            assert refused.status_code == 403, (method, url)
            assert "http_test_rig" in refused.json()["detail"]
    assert node.chaos.answer_delay == 0 and node.chaos.smtp is None
    assert node.clock.now().date().isoformat() == "2026-11-02"
    async with client(rig, ADMIN) as admin:
        bad = await admin.put(
            "/api/admin/chaos", json={"smtp": {"stage": "mail", "code": 500, "sessions": 1}}
        )
        assert bad.status_code == 422
        assert bad.json()["field"] == "body.smtp.code"


async def test_emulated_date_read_and_set(rig: Node) -> None:
    async with client(rig, ADMIN) as admin:
        assert (await admin.get("/api/admin/clock")).json()["date"] == "2026-11-02"
        moved = await admin.put("/api/admin/clock", json={"date": "1997-03-03"})
        assert moved.json()["date"] == "1997-03-03"
        bad = await admin.put("/api/admin/clock", json={"date": "ayer"})
    assert bad.status_code == 422
    assert rig.clock.now().date().isoformat() == "1997-03-03"


async def test_chaos_delays_the_answers_then_switches_off(rig: Node) -> None:
    body = render_declaration(declaration(reference="API-TARDE"), WireFormat.JSON)
    async with client(rig, ADMIN) as admin:
        switched = await admin.put("/api/admin/chaos", json={"answer_delay": 3})
        assert switched.json()["answer_delay"] == 3
        async with client(rig) as agent:
            await agent.post("/api/declarations", content=body)
            early = await agent.get("/api/declarations/API-TARDE", params={"wait": 1})
            assert early.json()["status"] == "pending"
            late = await agent.get("/api/declarations/API-TARDE", params={"wait": 20})
            assert late.json()["status"] == "accepted"
        assert (await admin.delete("/api/admin/chaos")).json()["answer_delay"] == 0


async def test_a_corrected_resubmission_reads_pending_until_its_own_answer(rig: Node) -> None:
    broken = render_declaration(
        declaration(reference="API-OTRA", breaks="STR-TOTALS"), WireFormat.JSON
    )
    fixed = render_declaration(declaration(reference="API-OTRA"), WireFormat.JSON)
    async with client(rig) as agent, client(rig, ADMIN) as admin:
        await agent.post("/api/declarations", content=broken)
        first = await agent.get("/api/declarations/API-OTRA", params={"wait": 20})
        assert first.json()["status"] == "rejected"
        await admin.put("/api/admin/chaos", json={"answer_delay": 30})
        await agent.post("/api/declarations", content=fixed)
        held = await agent.get("/api/declarations/API-OTRA")
        assert held.json()["status"] == "pending"  # not the old rejection
        await admin.delete("/api/admin/chaos")
        second = await agent.get("/api/declarations/API-OTRA", params={"wait": 20})
        assert second.json()["status"] == "accepted"


async def test_chaos_for_a_fraction_of_sessions_until_switched_off(rig: Node) -> None:
    async with client(rig, ADMIN) as admin:
        both = {"stage": "mail", "code": 451, "sessions": 1, "fraction": 0.5}
        refused = await admin.put("/api/admin/chaos", json={"smtp": both})
        assert refused.status_code == 422
        every = {"stage": "mail", "code": 451, "fraction": 1.0}
        assert (await admin.put("/api/admin/chaos", json={"smtp": every})).status_code == 200
        for _ in range(3):  # every session, with no count running out
            replies = await asyncio.to_thread(_smtp_session, rig)
            assert replies[1][0] == 451, replies
        state = (await admin.get("/api/admin/chaos")).json()
        assert state["smtp"]["fraction"] == 1.0
        await admin.delete("/api/admin/chaos")
    replies = await asyncio.to_thread(_smtp_session, rig)
    assert replies[-1][0] == 250


def test_a_fraction_faults_the_sessions_the_draw_picks() -> None:
    draws = iter([0.1, 0.7, 0.29, 0.3])
    chaos = Chaos(draw=lambda: next(draws))
    chaos.set_smtp_fraction("rcpt", 452, 0.3)
    assert [chaos.smtp_fault("rcpt") is not None for _ in range(4)] == [True, False, True, False]
    assert chaos.smtp_fault("mail") is None  # another stage draws nothing


async def test_the_intake_copy_carries_the_posted_bytes_as_they_came(rig: Node) -> None:
    body = render_declaration(declaration(reference="API-BYTES"), WireFormat.FLAT)
    async with client(rig) as agent:
        await agent.post("/api/declarations", content=body)
        state = (await agent.get("/api/declarations/API-BYTES", params={"wait": 20})).json()
    assert state["status"] == "accepted"
    attached = []
    async with client(rig, OFFICE) as office:
        for folder in (await office.get(f"/api/mailboxes/{OFFICE}/folders")).json():
            listing = await office.get(
                f"/api/mailboxes/{OFFICE}/messages", params={"folder": folder}
            )
            for entry in listing.json():
                raw = (await office.get(entry["url"])).content
                message = email.message_from_bytes(raw, policy=email.policy.default)
                for part in message.iter_attachments():
                    if part.get_filename() == "declaracion.txt":
                        attached.append(part.get_payload(decode=True))
    assert attached == [body]


async def test_guessing_passwords_is_held_back_as_in_every_protocol(rig: Node) -> None:
    """HTTP logins share the node's failed-login penalty (SMTP, POP3, IMAP): guesses wait
    longer and longer, and those that would wait past the longest are refused unchecked."""
    base = f"http://127.0.0.1:{rig.port('http')}"
    async with httpx.AsyncClient(base_url=base, auth=(AGENT, "mala"), timeout=30) as guesser:
        assert (await guesser.get("/api/declarations")).status_code == 401
        answers = await asyncio.gather(*(guesser.get("/api/declarations") for _ in range(20)))
    codes = [answer.status_code for answer in answers]
    assert set(codes) == {401, 429}, codes
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    async with client(rig) as right:  # the right password still works, after its wait
        assert (await right.get("/api/declarations")).status_code == 200


async def test_reset_empties_the_node_and_keeps_the_accounts(rig: Node) -> None:
    body = render_declaration(declaration(reference="API-RESET"), WireFormat.JSON)
    async with client(rig) as agent, client(rig, ADMIN) as admin:
        await agent.post("/api/declarations", content=body)
        first = (await agent.get("/api/declarations/API-RESET", params={"wait": 20})).json()
        assert first["number"].endswith("-000001")
        assert (await agent.post("/api/admin/reset")).status_code == 403  # administrators only
        done = await admin.post("/api/admin/reset")
        assert done.status_code == 200 and done.json()["mailboxes_removed"] >= 2
        assert (await agent.get("/api/declarations/API-RESET")).status_code == 404
        assert (await agent.get(f"/api/mailboxes/{AGENT}/messages")).json() == []
        # The same credentials work, and numbering starts again.
        await agent.post("/api/declarations", content=body)
        again = (await agent.get("/api/declarations/API-RESET", params={"wait": 20})).json()
    assert again["status"] == "accepted"
    assert again["number"] == first["number"]


def _two_recipients(node: Node) -> list[int]:
    """One session, one mail to two recipients; the RCPT codes it saw."""
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as smtp:
        smtp.login(AGENT, DEMO_PASSWORD)
        smtp.mail(AGENT)
        codes = [smtp.rcpt(OFFICE)[0], smtp.rcpt("aduana-172@aduanas.gob.pe")[0]]
        smtp.rset()
    return codes


async def test_chaos_counts_sessions_not_commands(rig: Node) -> None:
    """The next N sessions: a session naming two recipients is one of them, and each of
    its RCPTs gets the fault; the Nth session after it is still faulted."""
    async with client(rig, ADMIN) as admin:
        fault = {"stage": "rcpt", "code": 452, "sessions": 2}
        assert (await admin.put("/api/admin/chaos", json={"smtp": fault})).status_code == 200
    assert await asyncio.to_thread(_two_recipients, rig) == [452, 452]
    assert await asyncio.to_thread(_two_recipients, rig) == [452, 452]
    assert await asyncio.to_thread(_two_recipients, rig) == [250, 250]


def _greetings(node: Node) -> tuple[int, int]:
    """EHLO, then (as clients do when EHLO is refused) HELO, in one session."""
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=10) as smtp:
        return smtp.ehlo()[0], smtp.helo()[0]


async def test_chaos_at_the_greeting_answers_helo_too(rig: Node) -> None:
    """A client refused at EHLO falls back to HELO (RFC 5321 §3.2); the fault holds for
    the whole session, and the session counts once."""
    async with client(rig, ADMIN) as admin:
        fault = {"stage": "helo", "code": 452, "sessions": 1}
        assert (await admin.put("/api/admin/chaos", json={"smtp": fault})).status_code == 200
    assert await asyncio.to_thread(_greetings, rig) == (452, 452)
    assert await asyncio.to_thread(_greetings, rig) == (250, 250)


async def test_each_chaos_switch_is_logged(rig: Node, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gateway.chaos")
    async with client(rig, ADMIN) as admin:
        fault = {"stage": "mail", "code": 451, "sessions": 1}
        await admin.put("/api/admin/chaos", json={"smtp": fault, "answer_delay": 2})
        await asyncio.to_thread(_smtp_session, rig)
        await admin.delete("/api/admin/chaos")
    logged = [r.getMessage() for r in caplog.records if r.name == "gateway.chaos"]
    assert "chaos: next 1 SMTP sessions answer 451 at mail" in logged
    assert "chaos: the pipeline answers 2.0 s late" in logged
    assert "chaos: answered 451 at mail (0 more)" in logged
    assert logged[-1] == "chaos: switched off"


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2100-01-01", "9999-12-31"])
async def test_an_emulated_date_out_of_the_calendar_is_refused(rig: Node, day: str) -> None:
    """Dates at the ends of Python's calendar would overflow the first sum with them (the
    charts' last 400 days, a deadline) into a 500 on later requests: refused up front."""
    async with client(rig, ADMIN) as admin:
        refused = await admin.put("/api/admin/clock", json={"date": day})
    assert refused.status_code == 422
    assert refused.json()["field"] == "body.date"
    assert rig.clock.now().date().isoformat() == "2026-11-02"


async def test_the_emulated_date_is_the_date_the_node_receives_on(rig: Node) -> None:
    body = render_declaration(declaration(reference="API-1997"), WireFormat.JSON)
    async with client(rig, ADMIN) as admin, client(rig) as agent:
        assert (await admin.put("/api/admin/clock", json={"date": "1997-03-03"})).is_success
        await agent.post("/api/declarations", content=body)
        state = (await agent.get("/api/declarations/API-1997", params={"wait": 20})).json()
    assert state["status"] in ("accepted", "rejected")
    assert state["received_at"].startswith("1997-03-03")
    assert state["answered_at"].startswith("1997-03-03")


async def _events(
    http: httpx.AsyncClient, wanted: int, seen: list[tuple[str, str]], opened: asyncio.Event
) -> None:
    """Read the live feed's events (name, reference or sender) into ``seen`` until
    ``wanted`` have come; ``opened`` is set once the stream is subscribed."""
    async with http.stream("GET", "/api/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        opened.set()
        name = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
                seen.append((name, data.get("reference") or data["sender"]))
                if len(seen) >= wanted:
                    return


async def test_the_live_feed_streams_what_the_caller_may_see(rig: Node) -> None:
    """Each agent hears its own arrivals and answers, and none of the other's: the other
    agent's stream, open all along, carries its own declaration's events only."""
    mine: list[tuple[str, str]] = []
    theirs: list[tuple[str, str]] = []
    opened = [asyncio.Event(), asyncio.Event()]
    body = render_declaration(declaration(reference="API-VIVO"), WireFormat.JSON)
    other_body = render_declaration(
        declaration(reference="API-OTRO", agent_code=OTHER_CODE), WireFormat.JSON
    )
    async with client(rig) as agent, client(rig, OTHER_AGENT) as other:
        listening = asyncio.create_task(_events(agent, 2, mine, opened[0]))
        overhearing = asyncio.create_task(_events(other, 2, theirs, opened[1]))
        await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), 20)
        await agent.post("/api/declarations", content=body)
        await asyncio.wait_for(listening, 20)
        await other.post("/api/declarations", content=other_body)
        await asyncio.wait_for(overhearing, 20)
    assert mine == [("arrival", AGENT), ("answer", "API-VIVO")]
    assert theirs == [("arrival", OTHER_AGENT), ("answer", "API-OTRO")]


def _deliveries(node: Node, count: int, to: str) -> None:
    with smtplib.SMTP("127.0.0.1", node.port("smtp"), timeout=30) as smtp:
        smtp.login(OTHER_AGENT, DEMO_PASSWORD)
        for n in range(count):
            smtp.sendmail(OTHER_AGENT, [to], b"Subject: %d\r\n\r\nx\r\n" % n)


async def _cpu_of_deliveries(node: Node, count: int, to: str) -> float:
    started = time.process_time()
    await asyncio.to_thread(_deliveries, node, count, to)
    return time.process_time() - started


async def test_open_live_feeds_cost_the_node_little_however_busy_it_is(rig: Node) -> None:
    """Each feed looked up and listed its declarations at every change of the node: with 20
    open, 300 deliveries cost the node nine times the CPU, and each delivery eight times as
    long. Now a feed wakes only for what it may see and makes at most a few passes a
    second. The bound is generous (a factor of three, with the clients in this process)."""
    alone = await _cpu_of_deliveries(rig, 150, OTHER_AGENT)
    async with client(rig) as agent:
        opened = [asyncio.Event() for _ in range(20)]
        feeds = [asyncio.create_task(_events(agent, 10**6, [], o)) for o in opened]
        await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), 20)
        others_mail = await _cpu_of_deliveries(rig, 150, OTHER_AGENT)
        own_mail = await _cpu_of_deliveries(rig, 150, AGENT)  # each wakes every feed
        for feed in feeds:
            feed.cancel()
        await asyncio.gather(*feeds, return_exceptions=True)
    assert others_mail < 3 * alone, (others_mail, alone)
    assert own_mail < 3 * alone, (own_mail, alone)


async def test_a_full_disk_is_a_507_problem_told_once(
    rig: Node, caplog: pytest.LogCaptureFixture
) -> None:
    """As SMTP answers 452: nothing stored, the operator told once (each refusal an INFO
    line), and it works once there is room again, which the log says; not a 500 with a
    traceback."""
    big = render_declaration(declaration(reference="API-LLENO", series=60), WireFormat.JSON)
    await cap_database(rig, 2)
    caplog.set_level(logging.INFO)
    async with client(rig) as agent:
        for _ in range(2):
            refused = await agent.post("/api/declarations", content=big)
            assert refused.status_code == 507, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["retry-after"]
        told = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(told) == 1 and "full" in told[0].getMessage()
        refusals = [r for r in caplog.records if r.levelno == logging.INFO and "full" in r.msg]
        assert len(refusals) == 2
        assert "Traceback" not in caplog.text
        caplog.clear()
        await cap_database(rig, 1_000_000)
        assert (await agent.post("/api/declarations", content=big)).status_code == 202
        again = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(again) == 1 and "after 2 refused" in again[0].getMessage()


async def test_the_intake_copy_is_traced_as_a_submission_is(rig: Node) -> None:
    """A mailed declaration is stored under a ``Received:`` field naming the client, the
    account and this node (RFC 5321 §4.4, RFC 6409 §8); one posted to the API likewise,
    with the protocol it came by."""
    body = render_declaration(declaration(reference="API-TRAZA"), WireFormat.JSON)
    async with client(rig) as agent:
        await agent.post("/api/declarations", content=body)
        await agent.get("/api/declarations/API-TRAZA", params={"wait": 20})
    assert rig.store is not None
    (info,) = await rig.store.list_messages(OFFICE, "Recibidos")
    raw = await rig.store.read_message(OFFICE, "Recibidos", info.uid)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    (trace,) = message.get_all("Received")
    assert raw.startswith(b"Received: ")  # prepended, as a relay's trace is
    assert "from unknown ([127.0.0.1])" in trace
    assert f"(Authenticated sender: {AGENT})" in trace
    assert f"by {rig.settings.greeting_name} (Teledespacho) with HTTP id " in trace
    assert f"for <{OFFICE}>;" in trace


@pytest.mark.parametrize(
    "filler",
    [
        b" " * (19 * 1024 * 1024),
        b', "relleno": [' + b"[]," * (4 * 1024 * 1024) + b"[]]",
    ],
    ids=["blanks", "values"],
)
async def test_a_large_declaration_does_not_hold_up_the_event_loop(
    rig: Node, filler: bytes
) -> None:
    """Reading and composing a posted declaration is proportional to it: off the loop, so
    the node's loop (which this test shares) keeps ticking meanwhile. A 19 MB body held it
    1.0-1.5 s when composed on the loop with the email package. Read in a thread, 12 MB of
    small JSON values still held it 2.2 s (json's parser keeps the GIL for a whole
    document): a body that large is read by an analysis process, and one of more values than
    a declaration has is parsed by none (``edi_formats.json_limits``; the office is then
    named by the caller). The longest pause is now about 0.1-0.2 s (the transfer itself),
    and the bound is 0.5 s."""
    body = render_declaration(declaration(reference="API-GRANDE"), WireFormat.JSON).rstrip()
    big = body[:-1] + filler + body[-1:]  # inside the object: its last "}" comes after
    async with loop_pauses() as gaps, client(rig) as agent:
        posted = await agent.post("/api/declarations", content=big, params={"office": "118"})
    assert posted.status_code == 202, posted.text
    assert max(gaps) < 0.5, sorted(gaps)[-5:]


async def test_a_mailbox_is_listed_a_page_at_a_time(rig: Node) -> None:
    """However large the mailbox, one answer holds at most ``limit`` messages (500 unless
    asked), in UID order from ``after``: a rig pages through by the last UID it got."""
    assert rig.store is not None
    for n in range(7):
        await rig.store.deliver(OTHER_AGENT, [AGENT], f"Subject: {n}\r\n\r\nhola\r\n".encode())
    async with client(rig) as agent:
        url = f"/api/mailboxes/{AGENT}/messages"
        everything = (await agent.get(url)).json()
        first = (await agent.get(url, params={"limit": 3})).json()
        rest = (await agent.get(url, params={"limit": 3, "after": first[-1]["uid"]})).json()
        last = (await agent.get(url, params={"limit": 3, "after": rest[-1]["uid"]})).json()
        too_many = await agent.get(url, params={"limit": 100_000})
    assert len(everything) == 7
    assert [m["uid"] for m in first + rest + last] == [m["uid"] for m in everything]
    assert [len(first), len(rest), len(last)] == [3, 3, 1]
    assert too_many.status_code == 422 and too_many.json()["field"] == "query.limit"


async def test_a_page_costs_what_it_holds_not_what_the_mailbox_holds(rig: Node) -> None:
    """A page of ten from a mailbox of 30 010 takes about as long as one from a mailbox of
    ten: the page is read through the UID index. Reading the whole mailbox for each page
    (as before) made it 30-60 times slower, and paging through a mailbox cost its square.
    The bound is generous: an order of magnitude."""
    assert rig.store is not None
    await mailbox_fill.fill(rig.store, OTHER_AGENT, AGENT, 10)
    url = f"/api/mailboxes/{AGENT}/messages"
    async with client(rig) as agent:
        small = await median_seconds(lambda: agent.get(url, params={"limit": 10}))
        await mailbox_fill.fill(rig.store, OTHER_AGENT, AGENT, 30_000, first=10)
        last_page = {"limit": 10, "after": 30_000}
        large = await median_seconds(lambda: agent.get(url, params=last_page))
        page = (await agent.get(url, params=last_page)).json()
        first = (await agent.get(url, params={"limit": 2})).json()
    assert [m["uid"] for m in page] == list(range(30_001, 30_011))
    assert [m["uid"] for m in first] == [1, 2]
    assert large < 5 * small, (large, small)


async def test_the_openapi_document_describes_errors_as_they_are_sent(rig: Node) -> None:
    """Every 4xx goes out as application/problem+json (RFC 9457) with ``field``: the document
    says so for each operation, instead of FastAPI's default 422 body, which is never sent."""
    async with client(rig, None) as http:
        document = (await http.get("/api/openapi.json")).json()
    validate(document)
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "field"} <= set(problem["properties"])
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code in ("422", "4XX"):
                content = operation["responses"][code]["content"]
                assert list(content) == ["application/problem+json"], (method, path, code)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


@pytest.mark.parametrize("announced", [True, False], ids=["content-length", "chunked"])
async def test_a_body_no_operation_takes_is_refused_before_it_is_read(
    rig: Node, announced: bool
) -> None:
    """FastAPI reads a body, and parses its JSON, before it asks who is calling: any body
    but a declaration's is refused past 64 KiB, announced or not, before the caller is
    even known."""
    body = b'{"fecha": "' + b"x" * (100 * 1024) + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        yield body[:50_000]
        yield body[50_000:]

    content = body if announced else chunks()
    async with client(rig, None) as anyone:
        answer = await anyone.put("/api/admin/clock", content=content)
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-frame-options"] == "DENY"  # the answers' headers, as every one
    assert answer.json()["detail"] == "el cuerpo de esta solicitud excede 65536 bytes"
    async with client(rig, ADMIN) as admin:  # a body within the limit is read as before
        assert (await admin.get("/api/admin/clock")).status_code == 200
        assert (await admin.put("/api/admin/clock", json={})).status_code == 422


async def test_a_large_body_from_a_stranger_does_not_hold_up_the_event_loop(rig: Node) -> None:
    """An unauthenticated PUT of 12 MB of small JSON values was read whole and parsed on the
    loop before its 401: every session of the node waited 1.1 s for each. Now it is refused
    at its length, and the loop (which this test shares) keeps ticking."""
    body = b'{"x": [' + b"[]," * (4 * 1024 * 1024) + b"[]]}"
    head = (
        b"PUT /api/admin/clock HTTP/1.1\r\nHost: nodo\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )

    def stranger() -> bytes:
        with socket.create_connection(("127.0.0.1", rig.port("http")), timeout=10) as sock:
            with contextlib.suppress(ConnectionError):  # refused, closed before all was sent
                sock.sendall(head + body)
            return sock.recv(200).split(b"\r\n")[0]

    async with loop_pauses() as gaps:
        status = await asyncio.to_thread(stranger)
    assert status.startswith(b"HTTP/1.1 413 "), status
    assert max(gaps) < 0.5, sorted(gaps)[-5:]


async def test_requests_uvicorn_cannot_read_are_told_once_in_a_while(rig: Node) -> None:
    """uvicorn logs a line for each request it cannot read: garbage sent on connection after
    connection wrote the log a line each. Each still gets its 400."""

    def garbage() -> list[bytes]:
        statuses = []
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", rig.port("http")), timeout=10) as sock:
                sock.sendall(b"GARBAGE\r\n\r\n")
                statuses.append(sock.recv(100).split(b"\r\n")[0])
        return statuses

    with told("uvicorn.error") as said:
        statuses = await asyncio.to_thread(garbage)
    assert statuses == [b"HTTP/1.1 400 Bad Request"] * 20
    told_of_it = [r for r in said.records if "Invalid HTTP request" in r.getMessage()]
    # One line in ten seconds (none, if another test had it said just before): 20 before.
    assert len(told_of_it) <= 1, [r.getMessage() for r in told_of_it]


async def test_a_submission_s_work_in_the_lane_takes_the_caller_s_turns(
    rig: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account's requests share one turn in the lane (``gateway.lane``), as its mail
    connections do: many requests at once are not many turns."""
    turns: list[str] = []

    def recorded(body: bytes) -> tuple[WireFormat | None, DeclarationIdentity]:
        turns.append(str(gateway.lane._OWNER.get(None)))
        return identify(body)

    monkeypatch.setattr(gateway.http.submit, "identify", recorded)
    body = render_declaration(declaration(reference="API-TURNO"), WireFormat.JSON)
    async with client(rig) as http:
        posted = await http.post("/api/declarations", content=body)

    assert posted.status_code == 202, posted.text
    assert turns == [AGENT]
