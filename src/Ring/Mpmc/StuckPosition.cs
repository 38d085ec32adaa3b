using System.Diagnostics;

namespace Ring.Mpmc;

/// <summary>
/// Remembers since when one position has been seen stuck, so liveness is checked only past a threshold.
/// Under contention positions are briefly in flight all the time: the clock is read only once the same
/// position has been seen stuck a number of times in a row, so a passing claim costs a compare, not a clock read.
/// </summary>
internal struct StuckPosition
{
    private const int SightingsBeforeTiming = 16;

    private long _position;
    private int _sightings;
    private long _since;

    public static StuckPosition None => new() { _position = -1 };

    public readonly bool IsWatching => _position >= 0;

    public bool HasBeenStuck<TMemory>(in TMemory clock, long position, TimeSpan threshold) where TMemory : struct, ISharedMemory
    {
        if (position != _position)
        {
            _position = position;
            _sightings = 0;
            _since = 0;
            return false;
        }
        if (_sightings < SightingsBeforeTiming)
        {
            _sightings++;
            return false;
        }
        long now = clock.GetTimestamp();
        if (_since == 0)
        {
            _since = now;
            return false;
        }
        return Stopwatch.GetElapsedTime(_since, now) >= threshold;
    }

    public void Clear() => _position = -1;
}
