"""Knowledge distillation (Hinton, Vinyals and Dean, 2015): train a small student to match a
large teacher's softened predictions as well as the labels.

A teacher's probabilities carry more than the label: that a 7 looks a little like a 1 and not
at all like a 6. Dividing the scores by a temperature T > 1 before the softmax spreads the
probabilities so that this "dark knowledge" is visible:

    p_T = softmax(teacher_scores / T)        q_T = softmax(student_scores / T)

    loss = alpha * T^2 * KL(p_T || q_T)  +  (1 - alpha) * cross_entropy(student_scores, labels)

The gradient of the KL term with respect to the student's scores is (q_T - p_T) / T, so it
shrinks as 1/T^2 when T grows (one 1/T from the softmax, one from the scores' division);
multiplying by T^2 keeps its weight against the cross-entropy independent of T.

    >>> import tinytorch as torch
    >>> from tinytorch.compression import distillation_loss
    >>> scores = torch.tensor([[2.0, 0.0, -1.0]])
    >>> round(distillation_loss(scores, scores, torch.tensor([0]), alpha=1.0).item(), 6)
    0.0
"""

from __future__ import annotations

import tinytorch.nn.functional as F
from tinytorch import nn
from tinytorch.tensor import Tensor


def distillation_loss(
    student_scores: Tensor,
    teacher_scores: Tensor,
    target: Tensor,
    temperature: float = 4.0,
    alpha: float = 0.9,
) -> Tensor:
    """alpha T^2 KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) CE(student, target).

    Shapes: scores (N, C), target (N,) class indices. The teacher's scores are detached: only
    the student learns. The KL term is per example (``reduction="batchmean"``).
    """
    if temperature <= 0:
        raise ValueError(f"distillation_loss: temperature must be > 0, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"distillation_loss: alpha must be in [0, 1], got {alpha}")
    if student_scores.shape != teacher_scores.shape:
        raise ValueError(
            f"distillation_loss: student scores {tuple(student_scores.shape)} and teacher "
            f"scores {tuple(teacher_scores.shape)} must have the same shape (N, classes)"
        )
    # BEGIN SOLUTION 16
    student_log_probs = F.log_softmax(student_scores / temperature, dim=-1)
    teacher_log_probs = F.log_softmax(teacher_scores.detach() / temperature, dim=-1)
    soft = F.kl_div(student_log_probs, teacher_log_probs, reduction="batchmean", log_target=True)
    hard = F.cross_entropy(student_scores, target)
    return alpha * temperature**2 * soft + (1 - alpha) * hard
    # END SOLUTION


class DistillationLoss(nn.Module):
    """``distillation_loss`` as a module: ``DistillationLoss(T, alpha)(student, teacher, y)``."""

    def __init__(self, temperature: float = 4.0, alpha: float = 0.9) -> None:
        super().__init__()
        self.temperature = temperature
        self.alpha = alpha

    def forward(self, student_scores: Tensor, teacher_scores: Tensor, target: Tensor) -> Tensor:
        return distillation_loss(
            student_scores, teacher_scores, target, self.temperature, self.alpha
        )

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, alpha={self.alpha}"
