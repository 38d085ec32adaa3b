namespace Ring.Tests;

/// <summary>
/// A thread of its own running a body until it returns or its token fires. Disposing cancels it and waits
/// for it, so a failing test never disposes an endpoint — unmapping the segment — under a thread still blocked
/// on it: declare it after the endpoints it uses.
/// </summary>
internal sealed class Background<T> : IDisposable
{
    /// <summary>How long stopping waits for the body; the bodies leave within milliseconds of their token firing.</summary>
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop = new();

    public Background(Func<CancellationToken, T> body) =>
        Task = System.Threading.Tasks.Task.Factory.StartNew(() => body(_stop.Token), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public Task<T> Task { get; }

    /// <summary>Cancels the body and returns what it returned (or throws what it threw).</summary>
    public async Task<T> StopAsync()
    {
        await _stop.CancelAsync();
        return await Task.WaitAsync(StopLimit);
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            Task.Wait(StopLimit);
        }
        catch (AggregateException)
        {
            // Its outcome was awaited by the test already, or the test is failing for another reason.
        }
        _stop.Dispose();
    }
}
