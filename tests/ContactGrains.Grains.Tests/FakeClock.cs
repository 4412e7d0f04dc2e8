using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.Reminders;
using Orleans.TestingHost;

namespace ContactGrains.Grains.Tests;

/// <summary>Runs a test silo's grains, grain timers and reminders on a fake clock, and nothing else.</summary>
internal static class FakeClock
{
    /// <remarks>
    /// A fake clock as the silo's only <see cref="TimeProvider"/> also drives Orleans' own loops
    /// (membership, messaging timeouts, directory maintenance). Advancing it then runs those loops
    /// inline, and they can keep re-arming and running without end: a test host once spun at 100 %
    /// CPU for minutes (dotnet/orleans#10271 describes the same). Those areas stay on real time.
    /// </remarks>
    public static IServiceCollection AddFakeClock(this IServiceCollection services, FakeTimeProvider clock)
    {
        services.AddSingleton<TimeProvider>(clock); // the grains' own reads and grain timers
        services.UseTimeProviderForBackgroundAreas(TimeProvider.System);
        services.AddKeyedSingleton<TimeProvider>(ReminderTimeProviderNames.Reminders, clock);
        return services;
    }
}
