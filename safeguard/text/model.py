"""The grooming model: a language model over hashed n-grams, a risk model over the running state, a
calibration curve, and the decision threshold, in one ``.npz`` file.

The file holds only numbers (no pickles, loaded with ``allow_pickle=False``) and a JSON header with the
configuration and the training report. It holds no text: the n-gram weights are indexed by hash bucket.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from safeguard.text.errors import ModelFileError
from safeguard.text.features import HashingConfig
from safeguard.text.state import FEATURE_NAMES, MAX_GATE_PARTICIPANTS
from safeguard.text.trees import TreeEnsemble

FORMAT = "safeguard-grooming-model/1"
DEFAULT_MODEL_PATH = Path(__file__).parent / "model" / "grooming-default.npz"
MAX_MODEL_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class GroomingModel:
    hashing: HashingConfig
    text_coef: np.ndarray  # float32 (n_features,): weight of each hash bucket
    text_intercept: float
    ensemble: TreeEnsemble  # risk model over state features (log-odds)
    calibration_x: np.ndarray  # raw log-odds knots ...
    calibration_y: np.ndarray  # ... and the calibrated probability at each (isotonic, increasing)
    threshold: float
    ungated_cap: float  # risk ceiling while no child-directed evidence has been seen
    max_gate_participants: int = MAX_GATE_PARTICIPANTS
    report: dict[str, Any] = field(default_factory=dict)

    def language_scores(self, hashed: sparse.csr_matrix) -> np.ndarray:
        """Per-message log-odds that the author is the groomer, from the message's words alone."""
        scores: np.ndarray = (
            np.asarray(hashed @ self.text_coef, dtype=np.float64).ravel() + self.text_intercept
        )
        return scores

    def risk(self, features: np.ndarray, gate: np.ndarray) -> np.ndarray:
        """Calibrated risk for rows of state features; capped below the threshold where the gate is shut."""
        risk: np.ndarray = self._calibrated(self.ensemble.decision_function(features), gate)
        return risk

    def risk_one(self, features: np.ndarray, gate: bool) -> float:
        """:meth:`risk` for one row of features, without the array overhead (the API's message at a time)."""
        return float(self._calibrated(np.float64(self.ensemble.decision_one(features)), np.bool_(gate)))

    def _calibrated(self, raw: Any, gate: Any) -> Any:
        calibrated = np.interp(raw, self.calibration_x, self.calibration_y)
        return np.where(gate, calibrated, np.minimum(calibrated, self.ungated_cap))

    # --- file format -------------------------------------------------------------------------------

    def header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "hashing": {"n_features": self.hashing.n_features, "ngram_max": self.hashing.ngram_max},
            "features": list(FEATURE_NAMES),
            "text_intercept": self.text_intercept,
            "threshold": self.threshold,
            "ungated_cap": self.ungated_cap,
            "max_gate_participants": self.max_gate_participants,
            "report": self.report,
        }

    def save(self, path: Path) -> str:
        """Write the model; returns its SHA-256. Deterministic: the same model gives the same bytes."""
        arrays: dict[str, np.ndarray] = {
            "header": np.frombuffer(
                json.dumps(self.header(), sort_keys=True, default=_json_default).encode(), dtype=np.uint8
            ),
            "text_coef": self.text_coef.astype(np.float32),
            "calibration_x": self.calibration_x.astype(np.float64),
            "calibration_y": self.calibration_y.astype(np.float64),
            **self.ensemble.to_arrays("tree_"),
        }
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        data = _zero_zip_times(buffer.getvalue())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return hashlib.sha256(data).hexdigest()

    @classmethod
    def load(cls, path: Path | None = None) -> GroomingModel:
        path = path or DEFAULT_MODEL_PATH
        try:
            if path.stat().st_size > MAX_MODEL_BYTES:
                raise ModelFileError(f"{path}: larger than {MAX_MODEL_BYTES} bytes")
            with np.load(path, allow_pickle=False) as arrays:
                header = json.loads(bytes(arrays["header"]).decode())
                if header.get("format") != FORMAT:
                    raise ModelFileError(f"{path}: not a {FORMAT} file (format {header.get('format')!r})")
                if header.get("features") != list(FEATURE_NAMES):
                    raise ModelFileError(f"{path}: built for other state features; retrain it")
                hashing = HashingConfig(**header["hashing"])
                text_coef = np.asarray(arrays["text_coef"], dtype=np.float32)
                if text_coef.shape != (hashing.n_features,):
                    raise ModelFileError(f"{path}: language weights do not match the hashing size")
                model = cls(
                    hashing=hashing,
                    text_coef=text_coef,
                    text_intercept=float(header["text_intercept"]),
                    ensemble=TreeEnsemble.from_arrays(arrays, "tree_"),
                    calibration_x=np.asarray(arrays["calibration_x"], dtype=np.float64),
                    calibration_y=np.asarray(arrays["calibration_y"], dtype=np.float64),
                    threshold=float(header["threshold"]),
                    ungated_cap=float(header["ungated_cap"]),
                    max_gate_participants=int(header["max_gate_participants"]),
                    report=header.get("report", {}),
                )
        except ModelFileError:
            raise
        except FileNotFoundError as exc:
            raise ModelFileError(f"{path}: no such model file") from exc
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ModelFileError(f"{path}: unreadable model file ({exc})") from exc
        if int(np.max(model.ensemble.feature, initial=0)) >= len(FEATURE_NAMES):
            raise ModelFileError(f"{path}: tree refers to an unknown feature")
        if len(model.calibration_x) != len(model.calibration_y) or len(model.calibration_x) < 2:
            raise ModelFileError(f"{path}: bad calibration curve")
        return model


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _zero_zip_times(data: bytes) -> bytes:
    """numpy stamps each zip member with the current time; zero it so retraining gives identical bytes."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            stamped = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            stamped.compress_type = zipfile.ZIP_DEFLATED
            stamped.external_attr = 0o644 << 16
            target.writestr(stamped, source.read(info.filename))
    return out.getvalue()
