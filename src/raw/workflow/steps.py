"""``@step``, ``@retry``, ``@cache`` and ``@conditional``.

The decorators do not nest wrappers inside wrappers: each one adds its part to a
single :class:`StepSpec` attached to the method, and one executor runs it, so the
order they are stacked in does not matter. Per call the executor: checks the
run's deadline and cancellation, evaluates the condition (a false one records a
``skipped`` step), looks the result up in the cache, then runs the function
under the retry policy, recording every attempt. An ``async def`` step is
recorded only once its coroutine has finished.

Outside a run (a unit test calling a step method directly) a step is a plain
call: retries still apply, nothing is recorded.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar, overload

from pydantic import BaseModel, SecretBytes, SecretStr
from pydantic_core import to_jsonable_python

from raw import clock, tracing
from raw._loggers import logger
from raw._records import FrozenRecord
from raw.errors import (
    DryRunNetworkError,
    LLMNotConfiguredError,
    RunCancelledError,
    RunTimedOutError,
)
from raw.files import write_atomic
from raw.workflow.context import RunContext, _current_step, current_run, current_step
from raw.workflow.result import Attempt, ErrorInfo, StepResult

F = TypeVar("F", bound=Callable[..., Any])
log = logger("raw.workflow")

Backoff = Literal["exponential", "fixed", "linear"]
_BACKOFFS = ("exponential", "fixed", "linear")

# Errors no retry can fix: they stop a run at once.
NEVER_RETRIED: tuple[type[BaseException], ...] = (
    RunTimedOutError,
    RunCancelledError,
    DryRunNetworkError,
    LLMNotConfiguredError,
)


class RetryPolicy(FrozenRecord):
    """How ``@retry`` retries a step: attempts, backoff and which errors.

    Frozen, with a dataclass's ``==``, hash and ``repr`` (:mod:`raw._records`: start-up).
    """

    __slots__ = (
        "max_attempts",
        "backoff",
        "base_delay_seconds",
        "max_delay_seconds",
        "retry_on",
    )
    _fields = __slots__

    max_attempts: int
    backoff: Backoff
    base_delay_seconds: float
    max_delay_seconds: float
    retry_on: tuple[type[BaseException], ...]

    def __init__(
        self,
        max_attempts: int = 3,
        backoff: Backoff = "exponential",
        base_delay_seconds: float = 1.0,
        max_delay_seconds: float = 60.0,
        retry_on: tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        self._set(
            max_attempts=max_attempts,
            backoff=backoff,
            base_delay_seconds=base_delay_seconds,
            max_delay_seconds=max_delay_seconds,
            retry_on=retry_on,
        )

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if self.backoff == "fixed":
            delay = self.base_delay_seconds
        elif self.backoff == "linear":
            delay = self.base_delay_seconds * attempt
        else:
            delay = self.base_delay_seconds * 2 ** (attempt - 1)
        return float(min(delay, self.max_delay_seconds))

    def should_retry(self, exc: BaseException, attempt: int) -> bool:
        return (
            attempt < self.max_attempts
            and isinstance(exc, self.retry_on)
            and not isinstance(exc, NEVER_RETRIED)
        )


class CachePolicy(FrozenRecord):
    """How ``@cache`` keeps a step's result.

    Frozen, with a dataclass's ``==``, hash and ``repr`` (:mod:`raw._records`: start-up).
    """

    __slots__ = ("ttl_seconds",)
    _fields = __slots__

    ttl_seconds: float | None

    def __init__(self, ttl_seconds: float | None = None) -> None:
        self._set(ttl_seconds=ttl_seconds)


class StepSpec(FrozenRecord):
    """What the decorators on a method say: its step name, retry, cache and condition.

    Frozen, with a dataclass's ``==``, hash and ``repr`` (:mod:`raw._records`: start-up).
    """

    __slots__ = ("func", "name", "retry", "cache", "condition", "skip_reason", "is_async")
    _fields = __slots__

    func: Callable[..., Any]
    name: str | None
    retry: RetryPolicy | None
    cache: CachePolicy | None
    condition: Callable[..., Any] | str | None
    skip_reason: str | None
    is_async: bool

    def __init__(
        self,
        func: Callable[..., Any],
        name: str | None = None,
        retry: RetryPolicy | None = None,
        cache: CachePolicy | None = None,
        condition: Callable[..., Any] | str | None = None,
        skip_reason: str | None = None,
        is_async: bool = False,
    ) -> None:
        self._set(
            func=func,
            name=name,
            retry=retry,
            cache=cache,
            condition=condition,
            skip_reason=skip_reason,
            is_async=is_async,
        )

    @property
    def is_step(self) -> bool:
        return self.name is not None


def get_spec(obj: Any) -> StepSpec | None:
    spec = getattr(obj, "__raw_step__", None)
    return spec if isinstance(spec, StepSpec) else None


def _update(func: Callable[..., Any], **changes: Any) -> Callable[..., Any]:
    spec = get_spec(func)
    if spec is None:
        spec = StepSpec(func=func, is_async=inspect.iscoroutinefunction(func))
    return _build(spec._replace(**changes))


def _build(spec: StepSpec) -> Callable[..., Any]:
    if spec.is_async:

        async def async_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            return await _StepCall(spec, self, args, kwargs).run_async()

        wrapper: Callable[..., Any] = async_wrapper
    else:

        def sync_wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            return _StepCall(spec, self, args, kwargs).run_sync()

        wrapper = sync_wrapper
    functools.update_wrapper(wrapper, spec.func)
    wrapper.__raw_step__ = spec  # type: ignore[attr-defined]
    return wrapper


# --- the decorators -------------------------------------------------------------


def _refuse_positional(name: str, func: object, example: str) -> None:
    # Without this, @retry(3) would wrap the int 3 and fail later with a baffling error.
    if func is not None and not callable(func):
        raise TypeError(
            f"{name}() takes its options as keyword arguments, e.g. {example}; got {func!r}."
        )


@overload
def step(name: F, /) -> F: ...
@overload
def step(name: str | None = None, /) -> Callable[[F], F]: ...
def step(name: str | F | None = None, /) -> Any:
    """Record a method as a step: timed, its result or error kept in the run.

    ``@step("analyze")``, or bare ``@step`` to use the method's name.
    """
    if callable(name):
        return _update(name, name=name.__name__)

    def decorate(func: F) -> F:
        return _update(func, name=name or func.__name__)  # type: ignore[return-value]

    return decorate


@overload
def retry(func: F, /) -> F: ...
@overload
def retry(
    retries: int,
    backoff: Backoff = "exponential",
    /,
    *,
    base_delay_seconds: float | None = None,
    max_delay_seconds: float = 60.0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    base_delay: float | None = None,
) -> Callable[[F], F]: ...
@overload
def retry(
    *,
    max_attempts: int | None = None,
    backoff: Backoff = "exponential",
    base_delay_seconds: float | None = None,
    max_delay_seconds: float = 60.0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    retries: int | None = None,
    base_delay: float | None = None,
) -> Callable[[F], F]: ...
def retry(
    func: Callable[..., Any] | int | None = None,
    positional_backoff: str | None = None,
    /,
    *,
    max_attempts: int | None = None,
    backoff: str | None = None,
    base_delay_seconds: float | None = None,
    max_delay_seconds: float = 60.0,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    retries: int | None = None,
    base_delay: float | None = None,
) -> Any:
    """Retry a step on failure, waiting between attempts; every attempt is recorded.

    ``max_attempts`` counts the first try (default 3). ``backoff="exponential"``
    waits ``base_delay_seconds * 2**(n-1)`` after attempt n, ``"linear"``
    ``base_delay_seconds * n``, ``"fixed"`` ``base_delay_seconds``; waits never exceed
    ``max_delay_seconds``. Only exceptions in ``retry_on`` are retried.

    The original runtime's spellings work too: ``retries``/``base_delay``
    (``retries=3`` means 4 attempts) and its positional form, ``@retry(3)`` or
    ``@retry(3, "linear")`` (a count of retries, then the backoff).
    """
    if isinstance(func, int) and not isinstance(func, bool):
        if retries is not None or max_attempts is not None:
            raise TypeError("Give the number of retries once: positionally or by keyword.")
        retries, func = func, None
    _refuse_positional("retry", func, "@retry(max_attempts=3)")
    if positional_backoff is not None:
        if backoff is not None:
            raise TypeError("Give the backoff once: positionally or by keyword.")
        backoff = positional_backoff
    backoff = backoff or "exponential"
    if max_attempts is not None and retries is not None:
        raise TypeError("Pass max_attempts or retries (the original spelling), not both.")
    attempts = (
        max_attempts if max_attempts is not None else (retries + 1 if retries is not None else 3)
    )
    if attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, not {attempts}.")
    if backoff not in _BACKOFFS:
        raise ValueError(f"backoff must be 'exponential', 'linear' or 'fixed', not {backoff!r}.")
    delay = (
        base_delay_seconds
        if base_delay_seconds is not None
        else (base_delay if base_delay is not None else 1.0)
    )
    policy = RetryPolicy(
        max_attempts=attempts,
        backoff=typing.cast(Backoff, backoff),
        base_delay_seconds=delay,
        max_delay_seconds=max_delay_seconds,
        retry_on=retry_on if isinstance(retry_on, tuple) else (retry_on,),
    )

    def decorate(f: F) -> F:
        return _update(f, retry=policy)  # type: ignore[return-value]

    return decorate(func) if callable(func) else decorate


@overload
def cache(func: F, /) -> F: ...
@overload
def cache(*, ttl_seconds: float | None = None) -> Callable[[F], F]: ...
def cache(func: Callable[..., Any] | None = None, /, *, ttl_seconds: float | None = None) -> Any:
    """Reuse a step's result when its params, arguments and code are unchanged.

    The key covers the workflow, the step's name, the run's params, the call's
    arguments and the step's source code; a hit is validated back into the
    step's declared return type. Bypass with ``raw run --no-cache``,
    ``run_workflow(..., use_cache=False)`` or ``RAW_NO_CACHE=1``.
    """
    _refuse_positional("cache", func, "@cache(ttl_seconds=3600)")
    policy = CachePolicy(ttl_seconds=ttl_seconds)

    def decorate(f: F) -> F:
        return _update(f, cache=policy)  # type: ignore[return-value]

    return decorate(func) if func is not None else decorate


cache_step = cache
"""The original runtime's name for :func:`cache`."""


def conditional(
    condition: Callable[..., Any] | str, skip_reason: str | None = None
) -> Callable[[F], F]:
    """Run the step only when ``condition`` holds, else record it as skipped.

    ``condition`` is the name of a param whose truth decides
    (``@conditional("send_email")``), or a callable. The callable gets what the step
    gets, as in the original runtime: the workflow instance and the step's own
    arguments (``lambda self, order: order.total > 100``); one that takes only the
    instance gets only that. ``skip_reason`` is recorded and logged when it skips.
    """

    def decorate(f: F) -> F:
        return _update(f, condition=condition, skip_reason=skip_reason)  # type: ignore[return-value]

    return decorate


# --- execution ------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    try:
        return to_jsonable_python(value)
    except Exception:
        return repr(value)


def _secrets_digest(params: Any) -> str:
    """A hash of the secret params, which ``_jsonable`` masks: keys must tell them apart."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr | SecretBytes):
            found.append(repr(value.get_secret_value()))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple | set | frozenset):
            for item in value:
                walk(item)

    walk(params.model_dump() if isinstance(params, BaseModel) else params)
    return hashlib.sha256("\0".join(sorted(found)).encode()).hexdigest()


_source_hashes: dict[Any, str] = {}


def _code_hash(func: Callable[..., Any]) -> str:
    code = getattr(func, "__code__", None)
    cached = _source_hashes.get(code)
    if cached is not None:
        return cached
    try:
        text = inspect.getsource(func)
    except (OSError, TypeError):
        text = repr(code.co_code if code else func)
    digest = hashlib.sha256(text.encode()).hexdigest()
    _source_hashes[code] = digest
    return digest


class _StepCall:
    """One call of a step method inside (or outside) a run."""

    def __init__(
        self, spec: StepSpec, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.spec = spec
        self.instance = instance
        self.args = args
        self.kwargs = kwargs
        self.run: RunContext | None = current_run()
        self.record: StepResult | None = None
        self.cache_key: str | None = None
        self._span: tracing.OpenSpan | None = None
        self._span_token: Any = None

    # -- shared pieces

    def _skip(self) -> bool:
        cond = self.spec.condition
        if cond is None:
            return False
        if isinstance(cond, str):
            return not getattr(self.instance.params, cond)
        try:
            inspect.signature(cond).bind(self.instance, *self.args, **self.kwargs)
        except TypeError:  # a condition of the instance alone
            return not cond(self.instance)
        except ValueError:  # no signature to read (a builtin): call it as the original did
            pass
        return not cond(self.instance, *self.args, **self.kwargs)

    def _begin(self) -> tuple[bool, Any]:
        """Returns (done, value): done when the step was skipped or cached."""
        run = self.run
        if run is not None:
            run.check()
        if self.spec.is_step and run is not None:
            self.record = StepResult(name=self.spec.name or "", started_at=clock.now())
            run.steps.append(self.record)
            self._started = clock.monotonic()
            if run.span is not None:  # tracing on: the step is a child of the run's span
                self._span = tracing.start_span(
                    f"step {self.record.name}", attributes={"raw.step": self.record.name}
                )
        if self._skip():
            reason = self.spec.skip_reason or "its condition is false"
            if self.record is not None:
                self.record.skip_reason = reason
            self._end("skipped", None)
            self._log(f"step '{self.spec.name}' skipped: {reason}")
            return True, None
        if self.spec.cache is not None and run is not None and run.use_cache:
            hit, value = self._cache_get(run)
            if hit:
                if self.record is not None:
                    self.record.cached = True
                self._end("succeeded", value)
                self._log(f"step '{self.spec.name}' answered from cache")
                return True, value
        self._token = _current_step.set(self.record) if self.record is not None else None
        if self._span is not None:  # what the step calls (an LLM, an integration) is its child
            self._span_token = self._span.attach()
        return False, None

    def _attempts(self) -> list[Attempt] | None:
        target = self.record if self.record is not None else current_step()
        return target.attempts if target is not None else None

    def _attempt_started(self, number: int) -> tuple[int, Any, float]:
        return number, clock.now(), clock.monotonic()

    def _check(self, number: int) -> None:
        if self.run is not None and number > 1:
            self.run.check()

    def _attempt_failed(self, started: tuple[int, Any, float], exc: BaseException) -> float | None:
        """Record a failed attempt; return the wait before the next one, or None to give up."""
        number, at, t0 = started
        self._add_attempt(number, at, t0, exc)
        policy = self.spec.retry
        if policy is None or not policy.should_retry(exc, number):
            return None
        wait = policy.delay_after(number)
        if self.run is not None:
            remaining = self.run.remaining_seconds()
            if remaining is not None:
                wait = min(wait, remaining)
        self._log(
            f"step '{self.spec.name or self.spec.func.__name__}' attempt {number} failed "
            f"({type(exc).__name__}: {exc}); retrying in {wait:g}s"
        )
        return wait

    def _add_attempt(self, number: int, at: Any, t0: float, exc: BaseException | None) -> None:
        attempts = self._attempts()
        if attempts is not None and self.spec.retry is not None:
            attempts.append(
                Attempt(
                    number=number,
                    started_at=at,
                    duration_ms=round((clock.monotonic() - t0) * 1000, 3),
                    error=None if exc is None else f"{type(exc).__name__}: {exc}",
                )
            )

    def _succeeded(self, started: tuple[int, Any, float], value: Any) -> Any:
        number, at, t0 = started
        self._add_attempt(number, at, t0, None)
        if self.spec.cache is not None and self.run is not None and self.run.use_cache:
            self._cache_put(self.run, value)
        self._end("succeeded", value)
        return value

    def _failed(self, exc: BaseException) -> None:
        if self.record is not None:
            self.record.error = ErrorInfo.of(exc)
        self._end("failed", None)

    def _release(self) -> None:
        token = getattr(self, "_token", None)
        if token is not None:
            _current_step.reset(token)
            self._token = None
        if self._span_token is not None:
            tracing.OpenSpan.detach(self._span_token)
            self._span_token = None

    def _end(self, status: Literal["succeeded", "failed", "skipped"], value: Any) -> None:
        self._release()
        record = self.record
        if record is None:
            return
        record.status = status
        record.ended_at = clock.now()
        record.duration_ms = round((clock.monotonic() - self._started) * 1000, 3)
        if status == "succeeded":
            record.result = _jsonable(value)
        if self._span is not None:
            self._span.end(
                error=record.error.type if record.error else None,
                **{
                    "raw.step.status": status,
                    "raw.step.duration_ms": record.duration_ms,
                    "raw.step.attempts": len(record.attempts)
                    or (0 if status == "skipped" or record.cached else 1),
                    "raw.step.cached": record.cached or None,
                },
            )

    def _log(self, message: str) -> None:
        if self.run is not None:
            self.instance.log(message)
        else:
            log.info(message)

    # -- cache

    def _cache_path(self, run: RunContext) -> Any:
        if run.cache_dir is None:
            return None
        if self.cache_key is None:
            material = json.dumps(
                {
                    "workflow": run.workflow_id,
                    "step": self.spec.name or self.spec.func.__qualname__,
                    "params": _jsonable(getattr(self.instance, "params", None)),
                    "secrets": _secrets_digest(getattr(self.instance, "params", None)),
                    "args": _jsonable(list(self.args)),
                    "kwargs": _jsonable(self.kwargs),
                    "code": _code_hash(self.spec.func),
                    "dry": run.dry,
                },
                sort_keys=True,
                default=repr,
            )
            self.cache_key = hashlib.sha256(material.encode()).hexdigest()
        return run.cache_dir / run.workflow_id / f"{self.cache_key}.json"

    def _return_adapter(self) -> Any:
        # Lazy: pydantic's TypeAdapter costs start-up time; only a step's typed result needs it.
        from pydantic import TypeAdapter

        try:
            hints = inspect.get_annotations(self.spec.func, eval_str=True)
        except Exception:
            return None
        ret = hints.get("return")
        return None if ret is None else TypeAdapter(ret)

    def _cache_get(self, run: RunContext) -> tuple[bool, Any]:
        path = self._cache_path(run)
        if path is None or not path.exists():
            return False, None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            ttl = self.spec.cache.ttl_seconds if self.spec.cache else None
            if ttl is not None:
                age = (clock.now() - datetime.fromisoformat(entry["created_at"])).total_seconds()
                if age > ttl:
                    return False, None
            adapter = self._return_adapter()
            value = entry["value"]
            return True, adapter.validate_python(value) if adapter is not None else value
        except Exception as exc:  # a stale or corrupt entry is a miss, never a failure
            self._log(f"cache entry for step '{self.spec.name}' ignored: {exc}")
            return False, None

    def _cache_put(self, run: RunContext, value: Any) -> None:

        path = self._cache_path(run)
        if path is None:
            return
        try:
            entry = {"created_at": clock.now().isoformat(), "value": to_jsonable_python(value)}
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps(entry).encode())
        except Exception as exc:
            self._log(f"result of step '{self.spec.name}' not cached: {exc}")

    # -- the two loops

    def run_sync(self) -> Any:
        done, value = self._begin()
        if done:
            return value
        number = 1
        while True:
            started = self._attempt_started(number)
            try:
                self._check(number)
                result = self.spec.func(self.instance, *self.args, **self.kwargs)
            except BaseException as exc:
                wait = self._attempt_failed(started, exc)
                if wait is None:
                    self._failed(exc)
                    raise
                clock.sleep(wait)
                number += 1
                continue
            return self._succeeded(started, result)

    async def run_async(self) -> Any:
        # Lazy: asyncio costs start-up time; only an async step needs it.
        import asyncio

        done, value = self._begin()
        if done:
            return value
        number = 1
        while True:
            started = self._attempt_started(number)
            try:
                self._check(number)
                result = await self.spec.func(self.instance, *self.args, **self.kwargs)
            except asyncio.CancelledError:
                # Cut short from outside: the runner records why (a timeout or a cancellation)
                # instead of a bare "CancelledError".
                self._release()
                if self._span is not None:
                    self._span.end(error="CancelledError", **{"raw.step.status": "cancelled"})
                raise
            except BaseException as exc:
                wait = self._attempt_failed(started, exc)
                if wait is None:
                    self._failed(exc)
                    raise
                await clock.asleep(wait)
                number += 1
                continue
            return self._succeeded(started, result)
