using System.Diagnostics;

namespace Ring.Mpmc;

/// <summary>Remembers since when one position has been seen stuck, so liveness is checked only past a threshold.</summary>
internal struct StuckPosition
{
    private long _position;
    private long _since;

    public static StuckPosition None => new() { _position = -1 };

    public readonly bool IsWatching => _position >= 0;

    public bool HasBeenStuck(long position, TimeSpan threshold)
    {
        long now = Stopwatch.GetTimestamp();
        if (position != _position)
        {
            _position = position;
            _since = now;
            return false;
        }
        return Stopwatch.GetElapsedTime(_since, now) >= threshold;
    }

    public void Clear() => _position = -1;
}
