"""``manage.py convostate_sweep``: run convostate's due time rules and send its queued emails. Cron it::

* * * * *  cd /srv/app && python manage.py convostate_sweep
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_app.inbox.desk import scheduler_helpdesk


class Command(BaseCommand):
    help = "Run convostate's due time rules and send its queued emails: cron it every minute."

    def handle(self, *args: Any, **options: Any) -> None:
        with scheduler_helpdesk() as desk:
            swept = desk.run_due()
            self.stdout.write(f"ran {len(swept.acted)} due timers, {len(swept.stuck)} stuck")
            failed = 0
            if desk.mailer is not None:
                delivery = desk.deliver_pending()
                failed = len(delivery.failed)
                self.stdout.write(f"sent {len(delivery.sent)} emails, {failed} failed")
        if swept.stuck or failed:
            raise CommandError("a timer was stuck or an email failed: see above")
