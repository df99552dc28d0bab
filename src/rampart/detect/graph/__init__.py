"""Graph detectors: dense blocks (brushing, click farms) with lockstep timing, incremental."""

from rampart.detect.graph.dense import (
    BlockDetection,
    DenseBlockDetector,
    DenseBlockState,
    DenseConfig,
    MemberScore,
)

__all__ = ["BlockDetection", "DenseBlockDetector", "DenseBlockState", "DenseConfig", "MemberScore"]
