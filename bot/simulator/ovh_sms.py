"""A fake OVHcloud SMS API, on loopback, for the tests (as the fake Telegram is for Telegram): the
jobs Relais sends, what was sent under a tag, and the inbox of what people answered.

It is no more lenient than OVHcloud: every call but /auth/time is signed as OVHcloud signs them
("$1$" and the SHA-1 of the application secret, the consumer key, the method, the whole address,
the body and the timestamp, joined by "+"), with a timestamp close to its clock; a job's fields
are checked by name and type; an unknown account is 404. It also does what OVHcloud does that a
sender must cope with: a job accepted is not an idempotent request (the same job posted twice is
sent twice), and an answer stays in the inbox until it is deleted.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.domain.sms import is_gsm
from bot.simulator.sms_gateway import FakePhones

SERVICE = "sms-rl12345-1"
APPLICATION_KEY, APPLICATION_SECRET, CONSUMER_KEY = "fakeappkey0001", "fake-application-secret", "fake-consumer-key"
SKEW = 30  # seconds: a signed call's timestamp this far from the server's clock is refused
_RECEIVER = re.compile(r"(\+|00)[1-9]\d{7,14}")
_JOB_FIELDS: dict[str, type | tuple[type, ...]] = {
    "message": str,
    "receivers": list,
    "senderForResponse": bool,
    "noStopClause": bool,
    "coding": str,
    "charset": str,
    "priority": str,
    "tag": str,
    "sender": str,
    "validityPeriod": int,
    "differedPeriod": int,
    "class": str,
}


@dataclass
class FakeOvhSms(FakePhones):
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)  # accepted, not yet sent (held)
    outgoing: dict[int, dict[str, Any]] = field(default_factory=dict)  # sent
    incoming: dict[int, dict[str, Any]] = field(default_factory=dict)  # answers, until deleted
    refuse_delete_next: int = 0  # the next deletions of an answer fail (500)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(7_000_001))
    _port: int = 0

    async def start(self) -> FakeOvhSms:
        app = web.Application(middlewares=[self._signed])
        base = "/1.0/sms/{service}"
        app.router.add_get("/1.0/auth/time", self._time)
        app.router.add_post(f"{base}/jobs", self._post_job)
        app.router.add_get(f"{base}/jobs", self._job_ids)
        app.router.add_get(f"{base}/jobs/{{id}}", self._job)
        app.router.add_get(f"{base}/outgoing", self._outgoing)
        app.router.add_get(f"{base}/incoming", self._incoming_ids)
        app.router.add_get(f"{base}/incoming/{{id}}", self._incoming)
        app.router.add_delete(f"{base}/incoming/{{id}}", self._delete_incoming)
        self._port = await self.serve(app)
        self.url = f"http://127.0.0.1:{self._port}/1.0"
        return self

    def settings(self, relais_port: int | None = None) -> dict[str, object]:
        """The [sms] section that points Relais at this fake."""
        return {
            "enabled": True,
            "provider": "ovh",
            "ovh_endpoint": self.url,
            "ovh_service": SERVICE,
            "ovh_application_key": APPLICATION_KEY,
            "ovh_application_secret": APPLICATION_SECRET,
            "ovh_consumer_key": CONSUMER_KEY,
            "per_minute": 600,
        }

    # ------------------------------------------------------------------------- the API's rules
    @web.middleware
    async def _signed(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == "/1.0/auth/time":
            return await handler(request)
        if request.headers.get("X-Ovh-Application") != APPLICATION_KEY:
            return _error(403, "INVALID_KEY", "Invalid application key")
        if request.headers.get("X-Ovh-Consumer") != CONSUMER_KEY:
            return _error(403, "INVALID_CREDENTIAL", "This credential does not exist")
        stamp, body = request.headers.get("X-Ovh-Timestamp", ""), (await request.read()).decode()
        if not stamp.isdigit() or abs(int(stamp) - int(time.time())) > SKEW:
            return _error(400, "QUERY_TIME_OUT", "Query out of time")
        target = f"http://127.0.0.1:{self._port}{request.raw_path}"
        parts = [APPLICATION_SECRET, CONSUMER_KEY, request.method, target, body, stamp]
        expected = "$1$" + hashlib.sha1("+".join(parts).encode()).hexdigest()
        if request.headers.get("X-Ovh-Signature") != expected:
            return _error(400, "INVALID_SIGNATURE", "Invalid signature")
        if request.match_info.get("service") != SERVICE:
            return _error(404, None, "This service does not exist")
        return await handler(request)

    async def _time(self, request: web.Request) -> web.Response:
        return web.json_response(int(time.time()))

    async def _post_job(self, request: web.Request) -> web.Response:
        if self.refuse_next:
            return web.json_response({"message": "Internal server error"}, status=self.refuse_next.pop(0))
        try:
            body = json.loads(await request.read())
        except ValueError:
            self.problems.append("malformed job")
            return _error(400, None, "Invalid JSON")
        problem = _job_problem(body)
        if problem:
            self.problems.append(problem)
            return _error(400, None, problem)
        valid = [number for number in body["receivers"] if _RECEIVER.fullmatch(number)]
        invalid = [number for number in body["receivers"] if number not in valid]
        ids = []
        for number in valid:  # no idempotency: the same job posted again is sent again
            job_id = next(self._ids)
            self.jobs[job_id] = {
                "id": job_id,
                "receiver": number,
                "message": body["message"],
                "tag": body.get("tag", ""),
                "creationDatetime": _now(),
            }
            self.took(number, body["message"], body.get("tag", ""))
            ids.append(job_id)
        if self.hold is not None:
            await self.hold.wait()
        for job_id in ids:
            self.outgoing[job_id] = self.jobs.pop(job_id)
        answer = {
            "ids": ids,
            "invalidReceivers": invalid,
            "validReceivers": valid,
            "totalCreditsRemoved": len(ids),
            "tag": body.get("tag", ""),
        }
        return web.json_response(answer)

    async def _job_ids(self, request: web.Request) -> web.Response:
        return web.json_response(sorted(self.jobs))

    async def _job(self, request: web.Request) -> web.Response:
        return _one(request, self.jobs)

    async def _incoming_ids(self, request: web.Request) -> web.Response:
        return web.json_response(sorted(self.incoming))

    async def _incoming(self, request: web.Request) -> web.Response:
        return _one(request, self.incoming)

    async def _outgoing(self, request: web.Request) -> web.Response:
        tag, receiver = request.query.get("tag"), request.query.get("receiver")
        found = [
            job_id
            for job_id, job in self.outgoing.items()
            if (tag is None or job["tag"] == tag) and (receiver is None or job["receiver"] == receiver)
        ]
        return web.json_response(sorted(found))

    async def _delete_incoming(self, request: web.Request) -> web.Response:
        if self.refuse_delete_next:
            self.refuse_delete_next -= 1
            return web.json_response({"message": "Internal server error"}, status=500)
        if self.incoming.pop(int(request.match_info["id"]), None) is None:
            return _error(404, None, "The requested object does not exist")
        return web.json_response(None)

    # ------------------------------------------------------------------------- people's phones
    def answer(self, number: str, text: str) -> int:
        """Someone answers an SMS from their phone: it waits in the account's inbox."""
        answer_id = next(self._ids)
        self.incoming[answer_id] = {
            "id": answer_id,
            "sender": number,
            "message": text,
            "creationDatetime": _now(),
            "credits": 0,
            "tag": "",
        }
        return answer_id


def _one(request: web.Request, table: dict[int, dict[str, Any]]) -> web.Response:
    found = table.get(int(request.match_info["id"]) if request.match_info["id"].isdigit() else -1)
    if found is None:
        return _error(404, None, "The requested object does not exist")
    return web.json_response(found)


def _job_problem(body: Any) -> str:
    if not isinstance(body, dict):
        return "a job is an object"
    for name, value in body.items():
        if name not in _JOB_FIELDS:
            return f"unknown field {name}"
        if not isinstance(value, _JOB_FIELDS[name]) or isinstance(value, bool) != (_JOB_FIELDS[name] is bool):
            return f"{name}: wrong type"
    if not body.get("message") or not body.get("receivers"):
        return "message and receivers are required"
    if not all(isinstance(number, str) for number in body["receivers"]):
        return "receivers: strings"
    if body.get("coding", "7bit") not in ("7bit", "8bit"):
        return "coding: 7bit or 8bit"
    if body.get("coding", "7bit") == "7bit" and not is_gsm(body["message"]):
        return "a 7bit message with characters outside GSM 03.38"
    if body.get("priority", "high") not in ("high", "medium", "low", "veryLow"):
        return "priority: high, medium, low or veryLow"
    if len(body.get("tag", "")) > 20:
        return "tag: 20 characters at most"
    return ""


def _error(status: int, code: str | None, message: str) -> web.Response:
    body: dict[str, Any] = {"message": message}
    if code:
        body["errorCode"] = code
    return web.json_response(body, status=status)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
