using ContactGrains.Contracts;
using ContactGrains.Silo.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orleans.Runtime;
using Orleans.Storage;

namespace ContactGrains.EndToEnd.Tests;

/// <summary>Expected faults become incidents (a few warnings each); unexpected failures keep their stack traces.</summary>
public sealed class ExpectedFaultLoggingTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _clock = new(Start);
    private readonly FakeLogCollector _logs = new();
    private readonly ServiceProvider _services;
    private readonly ILoggerFactory _loggers;

    public ExpectedFaultLoggingTests()
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug).AddProvider(new FakeLoggerProvider(_logs)));
        services.AddExpectedFaultLogging();
        _services = services.BuildServiceProvider();
        _loggers = _services.GetRequiredService<ILoggerFactory>();
    }

    public void Dispose() => _services.Dispose();

    public static TheoryData<Exception, FaultKind?> Classified => new()
    {
        { new NpgsqlException("Failed to connect to 127.0.0.1:5432"), FaultKind.Database },
        { new OrleansException("Error from storage provider during WriteStateAsync", new NpgsqlException("Exception while reading from stream")), FaultKind.Database },
        { new InvalidOperationException("storage write failed", new NpgsqlException("connection refused")), FaultKind.Database },
        { new SiloUnavailableException("The target silo became unavailable"), FaultKind.Silo },
        { new System.Net.Sockets.SocketException(111), FaultKind.Silo },
        { new TimeoutException("Response did not arrive on time"), FaultKind.Timeout },
        { new TimeBudgetExceededException(TimeSpan.FromSeconds(10)), FaultKind.Timeout },
        { new ArgumentException("a bug"), null },
        { new InvalidOperationException("another bug"), null },
        { new InconsistentStateException("etag mismatch"), null },
        { new RequestRejectedException(RejectionCode.NotFound, "no such conversation"), null },
        { new OperationCanceledException(), null },
    };

    [Theory]
    [MemberData(nameof(Classified))]
    public void Outages_of_the_database_and_of_silos_and_timeouts_are_expected_faults_bugs_are_not(Exception failure, FaultKind? expected) =>
        Assert.Equal(expected, ExpectedFaults.Classify(failure)?.Kind);

    [Fact]
    public void A_category_asked_for_again_gets_the_same_logger_as_it_would_from_the_default_factory()
    {
        // Grain storage asks once per activation: a million open conversations must not mean a million loggers.
        var first = _loggers.CreateLogger("ContactGrains.Grains.GrainStorage");

        Assert.Same(first, _loggers.CreateLogger("ContactGrains.Grains.GrainStorage"));
        Assert.NotSame(first, _loggers.CreateLogger("ContactGrains.Conversations"));
    }

    [Fact]
    public void A_cause_is_one_short_line_never_a_stack_trace_or_the_callers_input()
    {
        var fault = ExpectedFaults.Classify(new NpgsqlException("Failed to connect\n   at Npgsql.Internal.NpgsqlConnector.Connect()" + new string('x', 5000)))!;
        Assert.Equal("the database is unreachable or failing (NpgsqlException: Failed to connect)", fault.Cause);

        var long1 = ExpectedFaults.Classify(new TimeoutException(new string('y', 5000)))!;
        Assert.True(long1.Cause.Length < 260, long1.Cause);
    }

    [Fact]
    public void A_database_outage_logs_one_warning_when_it_starts_and_one_with_the_count_when_it_ends()
    {
        var storage = _loggers.CreateLogger("Orleans.Storage.AdoNetGrainStorage");
        var grains = _loggers.CreateLogger("ContactGrains.Grains.Conversations.ConversationGrain");
        for (var i = 0; i < 300; i++)
        {
            // Orleans' provider logs the failure as an error, our grain as a warning: both counted.
            storage.LogError(new NpgsqlException("Failed to connect to 127.0.0.1:5432"), "Error writing grain state");
            grains.LogWarning(new OrleansException("Error from storage provider", new NpgsqlException("Failed to connect to 127.0.0.1:5432")), "A change could not be stored");
            _clock.Advance(TimeSpan.FromMilliseconds(100));
        }

        var started = Assert.Single(_logs.GetSnapshot());
        Assert.Equal(LogLevel.Warning, started.Level);
        Assert.Equal(ExpectedFaultLogging.Category, started.Category);
        Assert.Equal(1, started.Id.Id);
        Assert.Contains("(Database): the database is unreachable or failing (NpgsqlException: Failed to connect to 127.0.0.1:5432)", started.Message, StringComparison.Ordinal);
        Assert.Null(started.Exception);

        // 30 s of failures, then quiet: over once no failure came for the quiet period.
        _clock.Advance(FaultIncidents.QuietPeriod - TimeSpan.FromSeconds(1));
        Assert.Single(_logs.GetSnapshot());
        _clock.Advance(TimeSpan.FromSeconds(2));

        var records = _logs.GetSnapshot();
        Assert.Equal(2, records.Count);
        var ended = records[1];
        Assert.Equal(LogLevel.Warning, ended.Level);
        Assert.Equal(3, ended.Id.Id);
        Assert.Equal(
            "Expected fault (Database) over: 600 failures in 29.9 s (Orleans.Storage.AdoNetGrainStorage 300, ContactGrains.Grains.Conversations.ConversationGrain 300); it began with: the database is unreachable or failing (NpgsqlException: Failed to connect to 127.0.0.1:5432)",
            ended.Message);
        Assert.Equal(1, _services.GetRequiredService<FaultIncidents>().Started(FaultKind.Database));
    }

    [Fact]
    public void A_long_incident_says_it_is_still_going_on_once_a_minute()
    {
        var logger = _loggers.CreateLogger("ContactGrains.Silo.Channels.ChannelGrpcService");
        for (var second = 0; second < 150; second++)
        {
            logger.LogWarning(new SiloUnavailableException("silo S1 is dead"), "A frame was refused");
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        _clock.Advance(FaultIncidents.QuietPeriod + TimeSpan.FromSeconds(1));
        var records = _logs.GetSnapshot();
        Assert.Equal([1, 2, 2, 3], records.Select(r => r.Id.Id));
        Assert.All(records, r => Assert.Equal(LogLevel.Warning, r.Level));
        Assert.Contains("still going on after 60.0 s: 60 failures so far", records[1].Message, StringComparison.Ordinal);
        Assert.Contains("still going on after 120.0 s: 120 failures so far", records[2].Message, StringComparison.Ordinal);
        Assert.StartsWith("Expected fault (Silo) over: 150 failures in 149.0 s", records[3].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_incident_of_the_same_kind_after_recovery_is_logged_again()
    {
        var logger = _loggers.CreateLogger("Orleans.Grain");
        logger.LogError(new NpgsqlException("Failed to connect"), "Error activating grain");
        _clock.Advance(FaultIncidents.QuietPeriod + TimeSpan.FromSeconds(1));
        logger.LogError(new NpgsqlException("Failed to connect"), "Error activating grain");

        Assert.Equal([1, 3, 1], _logs.GetSnapshot().Select(r => r.Id.Id));
        Assert.Equal(2, _services.GetRequiredService<FaultIncidents>().Started(FaultKind.Database));
    }

    [Fact]
    public void Faults_of_different_kinds_are_separate_incidents()
    {
        var logger = _loggers.CreateLogger("Orleans.Grain");
        logger.LogError(new NpgsqlException("Failed to connect"), "Error activating grain");
        logger.LogError(new SiloUnavailableException("silo S2 is dead"), "Forwarding failed");
        logger.LogError(new NpgsqlException("Failed to connect"), "Error activating grain");

        var records = _logs.GetSnapshot();
        Assert.Equal(2, records.Count);
        Assert.Contains("(Database)", records[0].Message, StringComparison.Ordinal);
        Assert.Contains("(Silo)", records[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unexpected_failures_and_entries_without_an_expected_fault_are_logged_as_they_were()
    {
        var logger = _loggers.CreateLogger("ContactGrains.Silo.Hosting.ErrorMappingInterceptor");
        var bug = new InvalidOperationException("a bug");
        logger.LogError(bug, "Unexpected failure in {Method}", "/contactgrains.v1.ChannelService/SendMessage");
        logger.LogWarning("Agent {AgentId} is slow", "ann");

        // Below warning, an expected fault is a detail someone asked to see: not counted.
        logger.LogDebug(new NpgsqlException("Failed to connect"), "Probing the database");

        var records = _logs.GetSnapshot();
        Assert.Equal(3, records.Count);
        Assert.Same(bug, records[0].Exception);
        Assert.Equal(LogLevel.Error, records[0].Level);
        Assert.Equal("Agent ann is slow", records[1].Message);
        Assert.Equal(LogLevel.Debug, records[2].Level);
        Assert.Equal(0, _services.GetRequiredService<FaultIncidents>().Started(FaultKind.Database));
    }

    [Fact]
    public void The_status_of_an_expected_fault_is_unavailable_and_of_a_bug_internal()
    {
        Assert.Equal(StatusCode.Unavailable, Silo.Hosting.ErrorMapping.ToStatus(new NpgsqlException("Failed to connect")).StatusCode);
        var budget = Silo.Hosting.ErrorMapping.ToStatus(new TimeBudgetExceededException(TimeSpan.FromSeconds(10)));
        Assert.Equal(StatusCode.Unavailable, budget.StatusCode);
        Assert.StartsWith("The call did not complete within its time budget of 10 s.", budget.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.NotFound, Silo.Hosting.ErrorMapping.ToStatus(new RequestRejectedException(RejectionCode.NotFound, "gone")).StatusCode);
        Assert.Equal(StatusCode.Aborted, Silo.Hosting.ErrorMapping.ToStatus(new InconsistentStateException("etag")).StatusCode);
        Assert.Equal(StatusCode.Internal, Silo.Hosting.ErrorMapping.ToStatus(new ArgumentException("bug")).StatusCode);
    }

    [Fact]
    public async Task A_budget_that_runs_out_is_a_time_budget_failure_a_caller_that_left_is_not()
    {
        using (var budget = Silo.Hosting.CallBudget.Start(CancellationToken.None, TimeSpan.FromMilliseconds(1)))
        {
            var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(Timeout.Infinite, budget.Token));
            Assert.IsType<TimeBudgetExceededException>(budget.Explain(cancelled));
        }

        using var caller = new CancellationTokenSource();
        using (var budget = Silo.Hosting.CallBudget.Start(caller.Token, TimeSpan.FromMinutes(1)))
        {
            await caller.CancelAsync();
            var cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Delay(Timeout.Infinite, budget.Token));
            Assert.Same(cancelled, budget.Explain(cancelled));
        }
    }
}
