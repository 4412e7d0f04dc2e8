using System.Collections.Concurrent;
using ContactGrains.Contracts;
using ContactGrains.Grains.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace ContactGrains.Grains.Tests;

/// <summary>
/// What a conversation grain call logs carries the conversation's id in its scope, also what it logs
/// after an await (here: a write that the database fails a moment later); other grains' calls are
/// not given one.
/// </summary>
public sealed class ConversationLogScopeTests : IAsyncLifetime
{
    private static readonly TimeSpan SafetyTimeout = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
    private readonly ScopeCapturingLoggerProvider _logs = new();
    private InProcessTestCluster _cluster = null!;
    private FaultyGrainStorage _storage = null!;

    public async Task InitializeAsync() => (_cluster, _storage) = await FaultyStorageCluster.StartAsync(_clock, silo =>
    {
        silo.AddIncomingGrainCallFilter<ConversationLogScope>();
        silo.Services.AddSingleton<ILoggerProvider>(_logs);
    });

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task A_failure_logged_after_an_await_inside_a_conversation_call_names_the_conversation()
    {
        var thread = _cluster.Client.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
        var started = await thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust")), knownClosedId: null);
        var conversation = _cluster.Client.GetGrain<IConversationGrain>(started!.ConversationId);
        await conversation.ReceiveCustomerMessage(TestData.Message("m1", "Where is my refund?"), deliverTo: null);

        // The next write is held, so the grain awaits it; failing it then makes the grain log its
        // "could not be stored" warning in a continuation, not in the call's first synchronous part.
        var held = _storage.HoldNextWrite("conversation", conversation.GetGrainId());
        var call = conversation.ReceiveCustomerMessage(TestData.Message("m2", "How do I reset my password?"), deliverTo: null);
        await held.Reached.WaitAsync(SafetyTimeout);
        held.Release(fail: true);
        await Assert.ThrowsAnyAsync<Exception>(() => call.WaitAsync(SafetyTimeout));

        var warning = Assert.Single(_logs.Records, r => IsCommitFailure(r, started.ConversationId));
        Assert.Equal([started.ConversationId], warning.ConversationIds);
    }

    [Fact]
    public async Task A_thread_grain_that_starts_a_conversation_logs_its_own_failure_without_a_conversation_scope()
    {
        // The thread starts its conversation (a conversation grain call), then fails to store that.
        var thread = _cluster.Client.GetGrain<IConversationThreadGrain>(GrainKeys.Thread(TestData.Channel, TestData.UniqueId("thread")));
        _storage.FailWritesOf("thread", thread.GetGrainId());
        await Assert.ThrowsAnyAsync<Exception>(() => thread.GetOrStart(TestData.Customer(TestData.UniqueId("cust")), knownClosedId: null));
        _storage.Heal();

        var warning = Assert.Single(_logs.Records, r => IsCommitFailure(r, thread.GetPrimaryKeyString()));
        Assert.Empty(warning.ConversationIds);
    }

    private static bool IsCommitFailure(ScopeCapturingLoggerProvider.Record record, string grainKey) =>
        record.Message.Contains("could not be stored", StringComparison.Ordinal) && record.Message.Contains(grainKey, StringComparison.Ordinal);

    /// <summary>Keeps every log record with the "ConversationId" values of the scopes it was written in.</summary>
    private sealed class ScopeCapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public ConcurrentQueue<Record> Records { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        public sealed record Record(string Category, string Message, IReadOnlyList<string> ConversationIds);

        private sealed class Logger(ScopeCapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => provider._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var ids = new List<string>();
                provider._scopes.ForEachScope(
                    (scope, found) =>
                    {
                        if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                        {
                            found.AddRange(pairs.Where(p => p.Key == "ConversationId").Select(p => p.Value?.ToString() ?? ""));
                        }
                    },
                    ids);
                provider.Records.Enqueue(new Record(category, formatter(state, exception), ids));
            }
        }
    }
}
