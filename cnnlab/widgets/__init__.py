"""Interactive explorers (ipywidgets) built on :mod:`cnnlab.viz` and the numeric core.

Each explorer is a class: construct it, display it (or its ``.widget``), and read
``.result`` / ``.error`` after any control change. Helpers add their module here with
ONE import line each.
"""
from ._base import Explorer
from .conv import ConvExplorer
from .signals import FlipShiftAddExplorer, MovingAverageExplorer
from .systems import LTIExplorer
from .probability import DiceExplorer
from .images import EquivarianceExplorer, GaborExplorer, KernelPlayground
from .quiz import Quiz, try_function
from .cost import SeparableCostExplorer
from .pooling import PoolingExplorer
from .receptive import ReceptiveFieldExplorer
from .inspect import AttributionExplorer, FeatureMapExplorer, FGSMExplorer
from .training import TrainingExplorer
from .localisation import DetectionExplorer, LocalisationExplorer
from .architecture import ArchitectureBuilder
