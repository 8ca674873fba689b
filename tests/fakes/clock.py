"""A virtual monotonic clock for the sender's pacer: waits are recorded and pass at once."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class VirtualPace:
    """`clock` and `sleep` for bot.sender.Pacer; `waits` lists every pause the pacer asked for."""

    t: float = 1000.0
    waits: list[float] = field(default_factory=list)

    def clock(self) -> float:
        """Seconds on the virtual clock."""
        return self.t

    async def sleep(self, seconds: float) -> None:
        """Move the virtual clock instead of waiting."""
        self.waits.append(seconds)
        self.t += seconds
