using ContactGrains.Persistence;
using Npgsql;

namespace ContactGrains.Persistence.Tests;

/// <summary>The silo's connection settings: its defaults where the connection string is silent, the string's own values where it is not.</summary>
public sealed class ConnectionDefaultsTests
{
    [Fact]
    public void A_plain_connection_string_gets_short_timeouts_a_pool_within_the_server_s_limit_and_no_reset()
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgreSqlSiloBuilderExtensions.WithSiloDefaults("Host=127.0.0.1;Database=cg;Username=cg"));

        Assert.Equal(PostgreSqlSiloBuilderExtensions.DefaultConnectTimeoutSeconds, settings.Timeout);
        Assert.Equal(PostgreSqlSiloBuilderExtensions.DefaultCommandTimeoutSeconds, settings.CommandTimeout);
        Assert.Equal(PostgreSqlSiloBuilderExtensions.DefaultMaxPoolSize, settings.MaxPoolSize);
        Assert.True(settings.MaxPoolSize < 97, "three of PostgreSQL's 100 default slots are reserved for superusers");
        Assert.True(settings.NoResetOnClose);
        Assert.Equal("127.0.0.1", settings.Host);
    }

    [Theory]
    [InlineData("Maximum Pool Size=60")]
    [InlineData("MaxPoolSize=60")]
    [InlineData("maximum pool size=60")]
    public void A_pool_size_the_string_sets_is_kept_whatever_its_spelling(string setting)
    {
        var settings = new NpgsqlConnectionStringBuilder(PostgreSqlSiloBuilderExtensions.WithSiloDefaults($"Host=127.0.0.1;{setting}"));
        Assert.Equal(60, settings.MaxPoolSize);
    }

    [Fact]
    public void Timeouts_and_reset_the_string_sets_are_kept()
    {
        var settings = new NpgsqlConnectionStringBuilder(
            PostgreSqlSiloBuilderExtensions.WithSiloDefaults("Host=127.0.0.1;Timeout=12;Command Timeout=40;No Reset On Close=false"));

        Assert.Equal(12, settings.Timeout);
        Assert.Equal(40, settings.CommandTimeout);
        Assert.False(settings.NoResetOnClose);
    }
}
