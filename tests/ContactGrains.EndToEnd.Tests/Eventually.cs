namespace ContactGrains.EndToEnd.Tests;

/// <summary>Reads until a condition holds: for what the cluster does in the background (batched outcomes, the conversation index).</summary>
internal static class Eventually
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(60);

    public static async Task<T> ReadAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + SafetyTimeout;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not become true.");
            }

            await Task.Delay(100);
        }
    }
}
