from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .selectors import source_freshness


@login_required
def home(request):
    return render(request, "t5g/home.html", {"freshness": source_freshness()})
