from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "三会一课"

    def ready(self):
        from . import exports, rollups

        rollups.connect()
        exports.register()  # the mine's year ledger as an export job (bulletin.exports)
