"""Distributed tuning with KerasTuner's own chief/worker protocol.

Every process gets ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT`` and
``KERASTUNER_TUNER_ID``; the one whose tuner id contains ``chief`` holds the oracle and
serves it over gRPC, the others are workers: stock KerasTuner tuners whose oracle is an
``OracleClient`` proxy. Workers ask the chief for trials, run them, report back.

What differs from ``keras_tuner.distribute.oracle_chief.start_server`` is only when the
chief stops serving: KerasTuner polls every 30 s and then waits 40 s more, so every search
would end at least a minute after its last trial. `serve_oracle` uses KerasTuner's own
``OracleServicer`` and stops as soon as the search is over and every worker that asked for
a trial has been told to stop.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from concurrent import futures

ENV_TUNER_ID = "KERASTUNER_TUNER_ID"
ENV_ORACLE_IP = "KERASTUNER_ORACLE_IP"
ENV_ORACLE_PORT = "KERASTUNER_ORACLE_PORT"
_ENV = (ENV_TUNER_ID, ENV_ORACLE_IP, ENV_ORACLE_PORT)


class DistributedTuningError(RuntimeError):
    """The chief could not be reached, or the distributed environment is incomplete."""


def role_from_env(environ=None) -> str:
    """``local`` (no oracle address), ``chief`` or ``worker``, from KerasTuner's variables.

    Raises:
      DistributedTuningError: ``KERASTUNER_ORACLE_IP`` without the port or tuner id.
    """
    environ = os.environ if environ is None else environ
    if ENV_ORACLE_IP not in environ:
        return "local"
    missing = [name for name in (ENV_ORACLE_PORT, ENV_TUNER_ID) if not environ.get(name)]
    if missing:
        raise DistributedTuningError(
            f"{ENV_ORACLE_IP} is set but {' and '.join(missing)} is not; set all three "
            f"({', '.join(_ENV)}), with a tuner id containing 'chief' for the chief."
        )
    return "chief" if "chief" in environ[ENV_TUNER_ID] else "worker"


@contextlib.contextmanager
def local_oracle():
    """Hides KerasTuner's distribution variables while the chief builds its tuner.

    A tuner built with them set and a ``chief`` tuner id blocks in KerasTuner's own server
    loop; the chief builds a local tuner instead and serves its oracle with `serve_oracle`.
    """
    saved = {name: os.environ.pop(name) for name in _ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def wait_for_chief(ip: str, port: str | int, timeout_s: float) -> None:
    """Blocks until the chief's gRPC server accepts connections.

    KerasTuner's client waits forever for an unreachable chief; this bounds it.

    Raises:
      DistributedTuningError: Not reachable within `timeout_s`.
    """
    import grpc

    channel = grpc.insecure_channel(f"{ip}:{port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout_s)
    except grpc.FutureTimeoutError:
        raise DistributedTuningError(
            f"the tuning chief at {ip}:{port} did not answer within {timeout_s:.0f} s; start "
            f"it first (same command with {ENV_TUNER_ID}=chief) or raise --connect-timeout."
        ) from None
    finally:
        channel.close()


def serve_oracle(
    oracle,
    ip: str,
    port: str | int,
    *,
    expected_workers: int | None = None,
    timeout_s: float | None = None,
    poll_s: float = 0.2,
) -> tuple[set[str], str | None]:
    """Serves `oracle` to the workers until the search is over.

    The search is over when the oracle answered ``STOPPED`` to a trial request, no trial
    is running, and every worker seen (at least `expected_workers`, when given) has been
    told to stop. When the oracle gives up (``max_consecutive_failed_trials`` failures in
    a row), every worker is told to stop at its next trial request.

    Returns:
      The tuner ids of the workers, and the oracle's error message if it gave up.

    Raises:
      DistributedTuningError: The port is taken, or `timeout_s` passed first.
    """
    import grpc
    from keras_tuner import protos
    from keras_tuner.distribute import oracle_chief
    from keras_tuner.engine import trial as trial_module

    from tfgraphtune.tuning.tuners import save_oracle_after_abort

    lock = threading.Lock()
    seen: set[str] = set()
    stopped: set[str] = set()

    class Servicer(oracle_chief.OracleServicer):
        aborted: str | None = None

        def CreateTrial(self, request, context):  # noqa: N802  (gRPC method name)
            if self.aborted:
                # Tell every worker to stop, as KerasTuner's local search loop would.
                self.stop_triggered = True
                trial = trial_module.Trial(
                    oracle.get_space(), status=trial_module.TrialStatus.STOPPED
                )
                response = protos.get_service().CreateTrialResponse(trial=trial.to_proto())
            else:
                response = super().CreateTrial(request, context)
            status = trial_module.TrialStatus.from_proto(response.trial.status)
            with lock:
                seen.add(request.tuner_id)
                if status == trial_module.TrialStatus.STOPPED:
                    stopped.add(request.tuner_id)
            return response

        def EndTrial(self, request, context):  # noqa: N802
            try:
                return super().EndTrial(request, context)
            except RuntimeError as err:
                # Too many consecutive failures: end the search instead of failing the
                # worker's call.
                self.aborted = str(err)
                save_oracle_after_abort(oracle, request.trial.trial_id)
                return protos.get_service().EndTrialResponse()

    servicer = Servicer(oracle)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if server.add_insecure_port(f"{ip}:{port}") == 0:
        raise DistributedTuningError(f"the tuning chief cannot listen on {ip}:{port}.")
    server.start()
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    try:
        while True:
            with lock:
                done = (
                    servicer.stop_triggered
                    and not oracle.ongoing_trials
                    and seen <= stopped
                    and len(stopped) >= (expected_workers or 1)
                )
            if done:
                return set(stopped), servicer.aborted
            if deadline is not None and time.monotonic() > deadline:
                raise DistributedTuningError(
                    f"the search did not finish within {timeout_s:.0f} s "
                    f"(workers seen: {sorted(seen)}, stopped: {sorted(stopped)})."
                )
            time.sleep(poll_s)
    finally:
        server.stop(grace=1.0).wait()
