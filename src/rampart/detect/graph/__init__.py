"""Graph detectors, incremental: dense blocks (brushing, click farms) with lockstep timing, and
linkage rings (accounts joined by shared attributes and referrals)."""

from rampart.detect.graph.dense import (
    BlockDetection,
    DenseBlockDetector,
    DenseBlockState,
    DenseConfig,
    MemberScore,
)
from rampart.detect.graph.rings import LinkageRings, RingInfo, RingsConfig, RingsState

__all__ = [
    "BlockDetection",
    "DenseBlockDetector",
    "DenseBlockState",
    "DenseConfig",
    "LinkageRings",
    "MemberScore",
    "RingInfo",
    "RingsConfig",
    "RingsState",
]
