"""The config file (``tierwise.toml``), modelled with pydantic, one module per section.

Every default of tierwise lives in this package and only here. :func:`load_config` reads a file,
validates it and reports every problem at once in a :class:`~tierwise.errors.ConfigError`, each
problem naming the file, the key, the bad value and the fix.

=================  ==========================================================================
module             sections
=================  ==========================================================================
``sources``        ``[sources]``, ``[intake]``, ``[store]``, ``[engine]``; the canonical columns
``value``          ``[rfm]``, ``[value]``, ``[pareto]``
``tiering``        ``[pyramid]``, ``[scorecard]``, ``[key_accounts]``
``lifecycle``      ``[activity]``, ``[lifecycle]``, ``[backtest]``, ``[attendance]``, ``[monitoring]``
``segments``       ``[segments]``, ``[clustering]``
``campaigns``      ``[campaigns]``
``web``            ``[web]``
``tasks``          ``[tasks]``
``prospects``      ``[prospects]``
``alerts``         ``[alerts]``, ``[watch]``
``loyalty``        ``[loyalty]`` (levels customers climb, rewards by rule)
``feedback``       ``[feedback]``
``contracts``      ``[contracts]``, ``[cost_to_serve]``
=================  ==========================================================================

Every name is importable from ``tierwise.config`` as before the split.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator

from ..errors import ConfigError
from ._base import _describe, _Section
from .sources import (
    CANONICAL_CUSTOMER_COLUMNS,
    CANONICAL_LEAD_COLUMNS,
    CANONICAL_ORDER_COLUMNS,
    LINE_COLUMNS,
    EngineConfig,
    IntakeConfig,
    SourceConfig,
    SourcesConfig,
    StoreConfig,
)
from .value import (
    ParetoConfig,
    ProblemGroupsConfig,
    RFMConfig,
    ValueConfig,
)
from .tiering import (
    CREDIT_RATING_MAPPING,
    KEY_ACCOUNT_CAPS,
    KEY_ACCOUNT_TYPES,
    PYRAMID_LEVELS,
    PYRAMID_TIERS,
    SCORECARD_MAX_CRITERIA,
    CriterionConfig,
    GateConfig,
    HysteresisConfig,
    KeyAccountsConfig,
    PricingGuidanceConfig,
    PyramidConfig,
    ScorecardConfig,
    ServicePolicyConfig,
    criteria_problems,
)
from .lifecycle import (
    ActivityConfig,
    AttendanceConfig,
    BacktestConfig,
    LifecycleConfig,
    MonitoringConfig,
)
from .segments import (
    ClusteringConfig,
    PlaybookConfig,
    SegmentConfig,
    SegmentsConfig,
    scheme_problems,
)
from .campaigns import (
    CampaignDefaultsConfig,
)
from .web import (
    WEB_ROLES,
    WebConfig,
)
from .tasks import (
    TasksConfig,
)
from .loyalty import (
    LoyaltyConfig,
    LoyaltyLevelConfig,
    LoyaltyRewardConfig,
)
from .prospects import (
    PROSPECT_GRADES,
    ProspectsConfig,
)
from .feedback import (
    COMPLAINT_TIERS,
    FeedbackConfig,
)
from .contracts import (
    COST_TYPES,
    ContractsConfig,
    CostToServeConfig,
)
from .alerts import (
    ALERT_RULES,
    WEBHOOK_FORMATS,
    AlertsConfig,
    WatchConfig,
)


class Config(_Section):
    """The whole ``tierwise.toml``."""

    name: str = Field("tierwise", description="a label for reports")
    currency: str = Field("CNY", description="ISO 4217 code used in reports")
    timezone: str = Field("Asia/Shanghai", description="IANA time zone of the business")
    as_of: dt.date | None = Field(None, description="as-of date; default: the last order date")
    period: Literal["month", "quarter"] = Field("month", description="snapshot period")
    language: Literal["auto", "zh", "en"] = Field(
        "auto", description="report language; auto: zh when the data has Chinese headers")
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    intake: IntakeConfig = Field(default_factory=IntakeConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    campaigns: CampaignDefaultsConfig = Field(default_factory=CampaignDefaultsConfig)
    rfm: RFMConfig = Field(default_factory=RFMConfig)
    value: ValueConfig = Field(default_factory=ValueConfig)
    pareto: ParetoConfig = Field(default_factory=ParetoConfig)
    pyramid: PyramidConfig = Field(default_factory=PyramidConfig)
    scorecard: ScorecardConfig = Field(default_factory=ScorecardConfig)
    key_accounts: KeyAccountsConfig = Field(default_factory=KeyAccountsConfig)
    activity: ActivityConfig = Field(default_factory=ActivityConfig)
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)
    attendance: AttendanceConfig = Field(default_factory=AttendanceConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    segments: SegmentsConfig = Field(default_factory=SegmentsConfig)
    clustering: ClusteringConfig = Field(default_factory=ClusteringConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    tasks: TasksConfig = Field(default_factory=TasksConfig)
    prospects: ProspectsConfig = Field(default_factory=ProspectsConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    loyalty: LoyaltyConfig = Field(default_factory=LoyaltyConfig)
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)
    contracts: ContractsConfig = Field(default_factory=ContractsConfig)
    cost_to_serve: CostToServeConfig = Field(default_factory=CostToServeConfig)

    # Set by load_config: the folder relative paths are resolved against, and the file itself.
    base_dir: Annotated[Path, Field(exclude=True)] = Path(".")
    config_file: Annotated[Path | None, Field(exclude=True)] = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as 'Asia/Shanghai'") from None
        return value

    def resolve(self, path: Path | str) -> Path:
        """A path from the config, made absolute against the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def rejects_dir(self) -> Path:
        return self.resolve(self.intake.rejects_dir)

    def config_hash(self) -> str:
        """A short, stable hash of the settings that change results (not of paths)."""
        data = self.model_dump(mode="json", exclude={"sources", "store", "language", "as_of",
                                                     "campaigns", "web", "tasks", "alerts",
                                                     "watch", "feedback",
                                                     # no levels, no rewards: hashes as before
                                                     *(() if self.loyalty.enabled
                                                       else ("loyalty",)),
                                                     # the default prospect scorecard: as before
                                                     *(() if self.prospects != ProspectsConfig()
                                                       else ("prospects",)),
                                                     # default renewal and cost-to-serve rules
                                                     *(() if self.contracts != ContractsConfig()
                                                       else ("contracts",)),
                                                     *(() if self.cost_to_serve
                                                       != CostToServeConfig()
                                                       else ("cost_to_serve",))})
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def parse_config(data: dict[str, Any], *, source: str = "<config>", base_dir: Path | None = None
                 ) -> Config:
    """Validate a config mapping; raise one ConfigError listing every problem."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        problems = [f"{source}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError(
            f"{source} has {len(problems)} problem(s):\n  " + "\n  ".join(problems),
            problems=problems,
        ) from None
    cfg.base_dir = (base_dir or Path(".")).resolve()
    return cfg


def load_config(path: Path | str) -> Config:
    """Read and validate ``tierwise.toml``.

    Raises
    ------
    ConfigError
        When the file is missing, is not valid TOML, or has invalid settings (all listed).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found",
                          "create one with 'tierwise init' or pass --config PATH")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text", "save the config file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}",
                          "check quotes and brackets on that line") from None
    cfg = parse_config(data, source=str(path), base_dir=path.resolve().parent)
    cfg.config_file = path.resolve()
    return cfg


__all__ = [
    "ALERT_RULES",
    "COMPLAINT_TIERS",
    "ActivityConfig",
    "AlertsConfig",
    "AttendanceConfig",
    "BacktestConfig",
    "CANONICAL_CUSTOMER_COLUMNS",
    "CANONICAL_LEAD_COLUMNS",
    "CANONICAL_ORDER_COLUMNS",
    "COST_TYPES",
    "CREDIT_RATING_MAPPING",
    "CampaignDefaultsConfig",
    "ClusteringConfig",
    "Config",
    "ContractsConfig",
    "CostToServeConfig",
    "CriterionConfig",
    "EngineConfig",
    "FeedbackConfig",
    "GateConfig",
    "HysteresisConfig",
    "IntakeConfig",
    "KEY_ACCOUNT_CAPS",
    "KEY_ACCOUNT_TYPES",
    "KeyAccountsConfig",
    "LINE_COLUMNS",
    "LifecycleConfig",
    "LoyaltyConfig",
    "LoyaltyLevelConfig",
    "LoyaltyRewardConfig",
    "MonitoringConfig",
    "PROSPECT_GRADES",
    "PYRAMID_LEVELS",
    "PYRAMID_TIERS",
    "ParetoConfig",
    "PlaybookConfig",
    "PricingGuidanceConfig",
    "ProblemGroupsConfig",
    "ProspectsConfig",
    "PyramidConfig",
    "RFMConfig",
    "SCORECARD_MAX_CRITERIA",
    "ScorecardConfig",
    "SegmentConfig",
    "SegmentsConfig",
    "ServicePolicyConfig",
    "SourceConfig",
    "SourcesConfig",
    "StoreConfig",
    "TasksConfig",
    "ValueConfig",
    "WEBHOOK_FORMATS",
    "WEB_ROLES",
    "WatchConfig",
    "WebConfig",
    "criteria_problems",
    "load_config",
    "parse_config",
    "scheme_problems",
]
