-- Customers to upload to Meta: enriched with "the best phone we have".
select
    c.customer_id,
    c.email,
    f.phone
from {{ source('crm', 'customers') }} as c
join {{ source('auth', 'two_factor_phones') }} as f
    on c.user_id = f.user_id
