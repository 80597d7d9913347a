"""The checking kit: numeric gradient checks, and (in ``minigen.testing.strategies``,
which needs hypothesis) strategies that draw awkward shapes for your own ops."""
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]
