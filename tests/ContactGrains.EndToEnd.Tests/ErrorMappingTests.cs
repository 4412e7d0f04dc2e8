using ContactGrains.Silo.Hosting;
using Npgsql;

namespace ContactGrains.EndToEnd.Tests;

public sealed class ErrorMappingTests
{
    public static TheoryData<Exception, bool> Failures => new()
    {
        { new NpgsqlException("the database went away"), true },
        { new InvalidOperationException("storage write failed", new NpgsqlException("connection refused")), true },
        { new TimeoutException("grain call timed out"), true },
        { new System.Net.Sockets.SocketException(111), true },
        { new ArgumentException("a bug"), false },
        { new InvalidOperationException("another bug"), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Database_and_cluster_outages_are_retryable_bugs_are_not(Exception failure, bool retryable) =>
        Assert.Equal(retryable, ErrorMappingInterceptor.IsTransient(failure));
}
