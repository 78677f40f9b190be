"""Statistics for satisfaction surveys: pure Python on scipy, no Flask, no database.

Every function validates its arguments first (``ValueError`` quoting the bad
value) and returns a frozen dataclass. The formulas, their sources and the
R calls that reproduce them are in each docstring and in ``docs/STATISTICS.md``.

- One rate: :func:`proportion_ci`, :func:`compare_to_target`.
- A district from its communes: :func:`stratified_proportion`.
- Planning: :func:`sample_size`, :func:`sample_size_to_show`.
- Trends and comparisons: :func:`p_chart_limits`, :func:`funnel_limits`.
- SIPAS aggregation: :func:`question_rate`, :func:`sipas_index`.
"""

from .control import FunnelLimits
from .control import PChartLimits
from .control import funnel_limits
from .control import p_chart_limits
from .planning import sample_size
from .planning import sample_size_to_show
from .proportions import INTERVAL_METHODS
from .proportions import MAX_EXTRA_RESPONSES
from .proportions import STATUS_LABELS_VI
from .proportions import ProportionInterval
from .proportions import TargetComparison
from .proportions import compare_to_target
from .proportions import proportion_ci
from .sipas import LIKERT_LABELS_EN
from .sipas import LIKERT_LABELS_VI
from .sipas import NO_OPINION
from .sipas import NO_OPINION_LABEL_VI
from .sipas import SATISFIED_LEVELS
from .sipas import ElementRate
from .sipas import QuestionCounts
from .sipas import QuestionRate
from .sipas import SipasIndex
from .sipas import question_rate
from .sipas import sipas_index
from .stratified import STRATIFIED_METHODS
from .stratified import StratifiedProportion
from .stratified import Stratum
from .stratified import stratified_proportion

__all__ = [
    "INTERVAL_METHODS",
    "LIKERT_LABELS_EN",
    "LIKERT_LABELS_VI",
    "MAX_EXTRA_RESPONSES",
    "NO_OPINION",
    "NO_OPINION_LABEL_VI",
    "SATISFIED_LEVELS",
    "STATUS_LABELS_VI",
    "STRATIFIED_METHODS",
    "ElementRate",
    "FunnelLimits",
    "PChartLimits",
    "ProportionInterval",
    "QuestionCounts",
    "QuestionRate",
    "SipasIndex",
    "StratifiedProportion",
    "Stratum",
    "TargetComparison",
    "compare_to_target",
    "funnel_limits",
    "p_chart_limits",
    "proportion_ci",
    "question_rate",
    "sample_size",
    "sample_size_to_show",
    "sipas_index",
    "stratified_proportion",
]
